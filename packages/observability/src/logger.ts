import { type DestinationStream, type Logger, type LoggerOptions as LoggerSettings, pino } from "pino";
import { REDACT_PATHS, scrubSecrets } from "./redact.js";

export type { Logger };

export type LoggerOptions = {
  name: string;
  level: string;
  pretty?: boolean;
  destination?: DestinationStream | NodeJS.WritableStream;
};

export function createLogger(options: LoggerOptions): Logger {
  const settings: LoggerSettings = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    // Messages and error stacks are free text: scrub anything shaped like a credential.
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === "string" ? scrubSecrets(arg) : arg)) as Parameters<typeof method>,
        );
      },
    },
    serializers: {
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error);
        return {
          ...serialized,
          message: scrubSecrets(serialized.message ?? ""),
          ...(serialized.stack === undefined ? {} : { stack: scrubSecrets(serialized.stack) }),
        };
      },
    },
    // Pretty output is for a person at a terminal; anything else (files, collectors) gets JSON.
    ...(options.pretty === true && options.destination === undefined
      ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } }
      : {}),
  };
  return options.destination === undefined
    ? pino(settings)
    : pino(settings, options.destination as DestinationStream);
}
