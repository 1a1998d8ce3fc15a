/**
 * The subset of a pino logger this package uses, so `createLogger(...)` from observability can be
 * passed in without the queue package depending on pino.
 */
export type QueueLogger = {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
};
