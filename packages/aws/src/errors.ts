import { AppError } from "@keyturn/usecases";

// The one place where AWS failures (SDK service exceptions, network errors, credential-provider
// errors) become AppErrors. Callers above this package only ever see AppError, so nothing upstream
// depends on SDK classes, and "can trying again help?" is decided once, here.

/**
 * Codes this package throws. `AWS_<NAME>` is derived from AWS's own error name for permanent
 * refusals we do not single out (e.g. `MalformedPolicy` -> `AWS_MALFORMED_POLICY`).
 */
export type AwsErrorCode =
  /** Throttling outlasted our retries. Retryable. */
  | "AWS_THROTTLED"
  /** A conflicting write (ConflictException, S3 OperationAborted) outlasted our retries. Retryable. */
  | "AWS_CONFLICT"
  /** 5xx, InternalServerException, timeouts and network errors outlasted our retries. Retryable. */
  | "AWS_UNAVAILABLE"
  /** No usable or unexpired credentials. Retryable: rotating or refreshing them fixes it. */
  | "AWS_CREDENTIALS"
  | "AWS_VALIDATION"
  | "AWS_ACCESS_DENIED"
  | "AWS_RESOURCE_NOT_FOUND"
  | "AWS_SERVICE_QUOTA_EXCEEDED"
  | "AWS_NO_SUCH_BUCKET"
  /** AWS answered 2xx with something we cannot use (a missing status, an unparseable duration). */
  | "AWS_UNEXPECTED_RESPONSE"
  /** No Identity Center instance in the account/region, or the configured one is not there. */
  | "IDENTITY_CENTER_NOT_CONFIGURED"
  | "PERMISSION_SET_NOT_FOUND"
  /** An assignment stayed IN_PROGRESS past maxPollMs; the message carries AWS's request id. */
  | "PROVISIONING_TIMEOUT"
  | "INVALID_CONFIGURATION"
  | `AWS_${string}`;

/** The codes our retry loop tries again; everything else is thrown at once. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "AWS_THROTTLED",
  "AWS_CONFLICT",
  "AWS_UNAVAILABLE",
]);

const THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "BandwidthLimitExceeded",
  "PriorRequestNotComplete",
]);

// ConflictException: a conflicting write has not propagated yet, and AWS documents retrying it
// (aws-samples/iam-identity-center-team#513). OperationAborted is S3's equivalent.
const CONFLICT_NAMES = new Set(["ConflictException", "OperationAborted"]);

const UNAVAILABLE_NAMES = new Set([
  "InternalServerException",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

const CREDENTIAL_NAMES = new Set(["CredentialsProviderError", "ExpiredToken", "ExpiredTokenException"]);

type AwsLikeError = {
  name: string;
  message: string;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
};

function asAwsLike(error: unknown): AwsLikeError | undefined {
  if (typeof error !== "object" || error === null) {
    return undefined;
  }
  const candidate = error as Partial<AwsLikeError>;
  return typeof candidate.name === "string" && typeof candidate.message === "string"
    ? (candidate as AwsLikeError)
    : undefined;
}

/** AWS's error name (ThrottlingException, NoSuchBucketPolicy, ...), if the error came from AWS. */
export function awsErrorName(error: unknown): string | undefined {
  const aws = asAwsLike(error);
  return aws?.$metadata === undefined ? undefined : aws.name;
}

/** The request id AWS gave a failed call, when it answered at all. */
export function awsRequestIdOf(error: unknown): string | undefined {
  const requestId = asAwsLike(error)?.$metadata?.requestId;
  return typeof requestId === "string" && requestId !== "" ? requestId : undefined;
}

/** A member AWS sent with the error, e.g. Identity Store's `ResourceType`. */
export function awsErrorMember(error: unknown, member: string): unknown {
  return typeof error === "object" && error !== null ? (error as Record<string, unknown>)[member] : undefined;
}

/** `ValidationException` -> `AWS_VALIDATION`, `NoSuchBucket` -> `AWS_NO_SUCH_BUCKET`. */
function derivedCode(name: string): AwsErrorCode {
  const base = name.replace(/(Exception|Error)$/, "") || name;
  const snake = base
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
  return `AWS_${snake}`;
}

function classify(error: AwsLikeError): { code: AwsErrorCode; retryable: boolean } {
  const { name } = error;
  const status = error.$metadata?.httpStatusCode;
  if (THROTTLING_NAMES.has(name) || status === 429) {
    return { code: "AWS_THROTTLED", retryable: true };
  }
  if (CONFLICT_NAMES.has(name)) {
    return { code: "AWS_CONFLICT", retryable: true };
  }
  if (CREDENTIAL_NAMES.has(name)) {
    return { code: "AWS_CREDENTIALS", retryable: true };
  }
  const networkCode = typeof error.code === "string" ? error.code : undefined;
  if (
    UNAVAILABLE_NAMES.has(name) ||
    (status !== undefined && status >= 500) ||
    (networkCode !== undefined && NETWORK_CODES.has(networkCode))
  ) {
    return { code: "AWS_UNAVAILABLE", retryable: true };
  }
  if (error.$metadata === undefined) {
    // Not an AWS answer and not a known network failure: a bug or an unexpected runtime error.
    return { code: "AWS_UNEXPECTED_RESPONSE", retryable: false };
  }
  return { code: derivedCode(name), retryable: false };
}

/**
 * Translates anything an SDK call threw into an AppError. The message keeps AWS's own text (what
 * an operator needs to act) and the AWS request id (what AWS support asks for); the original error
 * stays reachable as `cause` for logs, typed `unknown` so no SDK type escapes this package.
 */
export function translateAwsError(error: unknown, operation: string): AppError {
  if (error instanceof AppError) {
    return error;
  }
  const aws = asAwsLike(error);
  if (aws === undefined) {
    return new AppError("AWS_UNEXPECTED_RESPONSE", `${operation} failed: ${String(error)}`, {
      retryable: false,
      cause: error,
    });
  }
  const { code, retryable } = classify(aws);
  const requestId = aws.$metadata?.requestId;
  const detail = aws.message.trim() === "" ? aws.name : `${aws.name}: ${aws.message}`;
  const message = `${operation} failed: ${detail}${requestId === undefined ? "" : ` (AWS request id ${requestId})`}`;
  return new AppError(code, message, { retryable, cause: error });
}
