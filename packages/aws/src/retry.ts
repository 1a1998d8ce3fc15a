import { AppError } from "@keyturn/usecases";
import { awsErrorName, TRANSIENT_CODES, translateAwsError } from "./errors.js";
import type { TimeSource } from "./time-source.js";

// Our own retry loop. The SDK clients are built with `maxAttempts: 1` so that every attempt is
// visible here: it takes a rate-limiter token (the SDK's hidden retries would not), it is logged,
// and the total is bounded in one place.

export type RetryOptions = {
  /** Attempts in all, the first included. Default 6. */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is uniform in [0, min(capMs, baseMs * 2^(n-1))). Default 200. */
  baseMs?: number;
  /** Default 5000. */
  capMs?: number;
  /** Default Math.random; injectable for deterministic tests. */
  random?: () => number;
};

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 6)),
    baseMs: options.baseMs ?? 200,
    capMs: options.capMs ?? 5000,
    random: options.random ?? Math.random,
  };
}

/** Structured logger, a subset of pino's, so any pino logger fits. */
export type AdapterLogger = {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
};

/** One attempt of one AWS call, as the composition root's metrics see it. */
export type AwsCallObservation = {
  /** "sso-admin", "identitystore" or "s3". */
  service: string;
  /** The AWS operation, e.g. "CreateAccountAssignment". */
  operation: string;
  /**
   * "ok", or AWS's own error name (ThrottlingException, NoSuchBucketPolicy, ...), also when the
   * adapter turns that answer into a value; for failures AWS did not answer, the network error code
   * (ECONNREFUSED) or the error's name (TimeoutError, CredentialsProviderError).
   */
  outcome: string;
  durationMs: number;
};

/**
 * Told about every attempt, retried ones included, after it ended. It keeps this package free of
 * any metrics library: the apps count with prom-client. Must not throw (what it throws is logged
 * and dropped, never allowed to fail the call).
 */
export type AwsCallObserver = (observation: AwsCallObservation) => void;

export type CallContext = {
  policy: RetryPolicy;
  time: TimeSource;
  logger: AdapterLogger | undefined;
  /**
   * The service every call of this context goes to, for observations; a function of the
   * operation when one context serves two services (Identity Center's sso-admin and identitystore).
   */
  service?: string | ((operation: string) => string);
  onCall?: AwsCallObserver | undefined;
};

/** What an attempt that threw is called in an observation (see AwsCallObservation.outcome). */
function attemptOutcome(error: unknown): string {
  if (typeof error !== "object" || error === null) {
    return "UnknownError";
  }
  const { code, name, $metadata } = error as {
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  // The SDK puts $metadata on network errors too; only an HTTP status means AWS answered.
  if (typeof $metadata?.httpStatusCode === "number") {
    return awsErrorName(error) ?? "UnknownError";
  }
  if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) {
    return code;
  }
  return typeof name === "string" && name !== "" ? name : "UnknownError";
}

function observe(ctx: CallContext, operation: string, outcome: string, startedAt: number): void {
  if (ctx.onCall === undefined) {
    return;
  }
  const service = typeof ctx.service === "function" ? ctx.service(operation) : (ctx.service ?? "unknown");
  try {
    ctx.onCall({ service, operation, outcome, durationMs: Math.max(0, ctx.time.now() - startedAt) });
  } catch (error) {
    ctx.logger?.warn({ operation, err: error }, "AWS call observer threw; observation dropped");
  }
}

export type AwsCall<T> = {
  /** The AWS operation, for messages and logs (e.g. "CreateAccountAssignment"). */
  operation: string;
  send: () => Promise<T>;
  /** Runs before every attempt, e.g. taking a rate-limiter token. */
  beforeAttempt?: () => Promise<void>;
  /**
   * Turns an expected AWS answer into a value before translation (GetUserId's "no such user",
   * GetBucketPolicy's "no policy"). Returns undefined for errors it does not recognise.
   */
  recover?: (error: unknown) => { value: T } | undefined;
};

/**
 * Sends one AWS call, retrying throttling, conflicts, 5xx and network errors with exponential
 * backoff and full jitter (the AWS Architecture Blog's "Exponential Backoff And Jitter": spreads
 * the retries of concurrent callers instead of synchronising them). Everything it throws is an
 * AppError; transient failures that outlast the attempts stay retryable for the caller's own
 * (much slower) retry, e.g. the worker's job backoff.
 */
export async function callAws<T>(ctx: CallContext, call: AwsCall<T>): Promise<T> {
  const { policy, time, logger } = ctx;
  for (let attempt = 1; ; attempt++) {
    await call.beforeAttempt?.();
    // Timed from after the limiter's wait: the duration is AWS's, not our own pacing.
    const startedAt = time.now();
    try {
      const value = await call.send();
      observe(ctx, call.operation, "ok", startedAt);
      return value;
    } catch (error) {
      observe(ctx, call.operation, attemptOutcome(error), startedAt);
      const recovered = call.recover?.(error);
      if (recovered !== undefined) {
        return recovered.value;
      }
      const translated = translateAwsError(error, call.operation);
      if (!TRANSIENT_CODES.has(translated.code)) {
        throw translated;
      }
      if (attempt >= policy.maxAttempts) {
        logger?.warn(
          { operation: call.operation, attempts: attempt, code: translated.code },
          "AWS call still failing after the last attempt",
        );
        throw new AppError(translated.code, `${translated.message}; gave up after ${attempt} attempts`, {
          retryable: true,
          cause: translated.cause,
        });
      }
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
      const delayMs = policy.random() * ceiling;
      logger?.debug(
        { operation: call.operation, attempt, code: translated.code, delayMs: Math.round(delayMs) },
        "retrying AWS call",
      );
      await time.sleep(delayMs);
    }
  }
}
