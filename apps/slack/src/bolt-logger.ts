import type { Logger } from "@keyturn/observability";
import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";

// Bolt logs through our pino logger (with its redaction), not to the console.

function text(parts: unknown[]): string {
  return parts.map((part) => (typeof part === "string" ? part : String(part))).join(" ");
}

const LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

export function boltLogger(logger: Logger): BoltLogger {
  const bolt = logger.child({ component: "bolt" });
  // Bolt and its Web API client log at debug on every request: skip the formatting unless shown.
  const debug = bolt.isLevelEnabled("debug");
  const info = bolt.isLevelEnabled("info");
  return {
    debug: (...parts: unknown[]) => {
      if (debug) {
        bolt.debug(text(parts));
      }
    },
    info: (...parts: unknown[]) => {
      if (info) {
        bolt.info(text(parts));
      }
    },
    warn: (...parts: unknown[]) => bolt.warn(text(parts)),
    error: (...parts: unknown[]) => bolt.error(text(parts)),
    // The level is pino's; Bolt may ask for it but does not get to change it.
    setLevel: () => undefined,
    getLevel: () => LEVELS[logger.level] ?? LogLevel.INFO,
    setName: () => undefined,
  };
}
