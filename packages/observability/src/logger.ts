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
  if (options.destination !== undefined) {
    return pino(settings, options.destination as DestinationStream);
  }
  if (settings.transport !== undefined) {
    return pino(settings);
  }
  // Not pino's default synchronous stdout: a line written while a burst of Slack interactions is
  // being acknowledged would block the event loop whenever the pipe to the log collector is full,
  // and every ack behind it waits. Buffered writes are flushed on exit by pino itself.
  return pino(settings, pino.destination({ dest: 1, sync: false }));
}
