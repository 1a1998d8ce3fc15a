/**
 * The one error family infrastructure throws. Adapters translate vendor errors (AWS, Prisma, Slack)
 * into it once; `retryable` tells the worker whether trying again can help.
 */
export class AppError extends Error {
  // Widened to string so that members of the family (DatabaseError) can name themselves.
  override readonly name: string = "AppError";
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable;
  }
}
