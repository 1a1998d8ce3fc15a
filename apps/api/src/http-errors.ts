import { STATUS_CODES } from "node:http";
import type { BucketPolicyErrorCode, UseCaseError, UseCaseErrorCode } from "@keyturn/usecases";

/** Failures that only exist at the HTTP edge (no use case produces them). */
type EdgeErrorCode =
  | "VALIDATION_FAILED"
  | "MALFORMED_JSON"
  /** A path segment that is not valid percent-encoding. */
  | "INVALID_URL"
  /** A path parameter longer than any Keyturn id or name could be. */
  | "URI_TOO_LONG"
  | "INVALID_CURSOR"
  | "UNAUTHENTICATED"
  | "INSUFFICIENT_SCOPE"
  | "SERVICE_TOKEN_CANNOT_REVIEW"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "NOT_READY"
  | "UNAVAILABLE"
  | "INTERNAL"
  /** The API runs without an S3 client, so routes that read or write bucket policies cannot work. */
  | "S3_NOT_CONFIGURED"
  /** S3 refused a bucket-policy call (access denied, no such bucket, ...); the detail says how. */
  | "S3_ERROR"
  | "BUCKET_POLICY_ACCESS_DENIED";

export type ProblemCode = UseCaseErrorCode | EdgeErrorCode | BucketPolicyErrorCode;

/**
 * The one code -> status table of the API. `satisfies` makes it exhaustive: a new use-case code
 * does not compile until someone decides its status here.
 */
const USE_CASE_STATUS = {
  // A request naming a flow, target or value the flow does not accept is a bad body.
  FLOW_NOT_FOUND: 400,
  FLOW_ARCHIVED: 400,
  INVALID_FLOW: 400,
  TARGET_REQUIRED: 400,
  UNKNOWN_TARGET: 400,
  DURATION_OUT_OF_RANGE: 400,
  REASON_REQUIRED: 400,
  REASON_MISMATCH: 400,
  TICKET_REQUIRED: 400,
  TICKET_MISMATCH: 400,
  // The ticket failed the flow's requirement (not found, wrong project, closed, not yours...).
  TICKET_REJECTED: 400,
  EXTENSION_TOO_LONG: 400,
  // The body names a person Identity Center does not know.
  IDENTITY_NOT_FOUND: 400,
  // The caller is known but the flow's rules do not let them do this.
  NOT_A_REQUESTER: 403,
  NOT_AN_APPROVER: 403,
  SELF_APPROVAL: 403,
  NOT_ALLOWED: 403,
  EXTENSION_NOT_ALLOWED: 403,
  // Token authority (token-authority.ts): separation of duties between token holders.
  SCOPE_NOT_HELD: 403,
  FOREIGN_TOKEN_OWNER: 403,
  TOKEN_BEYOND_REACH: 403,
  EXPIRY_BEYOND_MINTER: 400,
  REQUEST_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  // Valid on its own, but the request (or token) has moved on.
  REQUEST_EXISTS: 409,
  ALREADY_DECIDED: 409,
  ALREADY_REVIEWED: 409,
  INVALID_TRANSITION: 409,
  EXTENSION_LIMIT: 409,
  NOT_DUE: 409,
  ALREADY_CHECKED: 409,
  // The ticket's provider could not be asked: nothing was created; try again.
  TICKET_UNCHECKED: 503,
  TOKEN_REVOKED: 409,
  // The Idempotency-Key was first used with another body: the client has a bug, retrying won't help.
  IDEMPOTENCY_KEY_REUSED: 422,
  // Two directory users share the email: an admin has to pin the right one first.
  IDENTITY_AMBIGUOUS: 409,
  // `keyturn login`: the sign-in is unknown, over, refused or answered by someone else.
  SIGN_IN_NOT_FOUND: 404,
  SIGN_IN_EXPIRED: 410,
  SIGN_IN_REDEEMED: 410,
  SIGN_IN_REJECTED: 403,
  SIGN_IN_NOT_YOURS: 403,
  SIGN_IN_DECIDED: 409,
  // Nobody in Slack to ask (the email is not a Slack user's, or Keyturn runs without Slack).
  SIGN_IN_UNDELIVERABLE: 422,
} as const satisfies Record<UseCaseErrorCode, number>;

const EDGE_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  INVALID_URL: 400,
  URI_TOO_LONG: 414,
  INVALID_CURSOR: 400,
  UNAUTHENTICATED: 401,
  INSUFFICIENT_SCOPE: 403,
  SERVICE_TOKEN_CANNOT_REVIEW: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_READY: 503,
  UNAVAILABLE: 503,
  S3_NOT_CONFIGURED: 503,
  S3_ERROR: 502,
  // S3 refuses Keyturn's own role the bucket's policy (onboarding a bucket whose current policy
  // does not let Keyturn in): the operator must act on the bucket first; the detail says how.
  BUCKET_POLICY_ACCESS_DENIED: 409,
} as const satisfies Record<EdgeErrorCode, number>;

const BUCKET_POLICY_STATUS = {
  BUCKET_NOT_FOUND: 404,
  ASSIGNMENT_NOT_FOUND: 404,
  INVALID_BUCKET_SPEC: 400,
  // The spec is fine on its own, but its policy (with the foreign statements kept) exceeds 20 KB.
  POLICY_TOO_LARGE: 400,
  // The bucket's live policy cannot be read: fix it in S3 before Keyturn merges into it.
  INVALID_LIVE_POLICY: 409,
  // The bucket's default encryption must be SSE-KMS first; the message says how.
  BUCKET_NOT_KMS_ENCRYPTED: 409,
  // The spec leaves Keyturn's own principal out of administer-resource or read-config.
  LOCKOUT_SPEC: 400,
} as const satisfies Record<BucketPolicyErrorCode, number>;

const STATUS: Record<ProblemCode, number> = { ...USE_CASE_STATUS, ...EDGE_STATUS, ...BUCKET_POLICY_STATUS };

/** Every code the API can answer with, for the OpenAPI document. */
export const PROBLEM_CODES = Object.keys(STATUS) as ProblemCode[];

function statusOf(code: ProblemCode): number {
  return STATUS[code];
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export type FieldError = { path: string; message: string };

/** RFC 9457 problem details, plus our stable `code` and the request id to quote in a bug report. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  requestId: string;
  errors?: FieldError[];
};

const kebab = (code: string) => code.toLowerCase().replaceAll("_", "-");

function problemType(code: ProblemCode): string {
  return `https://keyturn.dev/problems/${kebab(code)}`;
}

/**
 * Thrown by handlers and hooks for an expected failure; the error handler renders it. Carries no
 * internals: `detail` is written for the API's user.
 */
export class HttpProblem extends Error {
  override readonly name = "HttpProblem";
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.code = code;
    this.status = statusOf(code);
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  toProblem(requestId: string): Problem {
    return {
      type: problemType(this.code),
      title: STATUS_CODES[this.status] ?? "Error",
      status: this.status,
      detail: this.message,
      code: this.code,
      requestId,
      ...(this.errors === undefined || this.errors.length === 0 ? {} : { errors: this.errors }),
    };
  }
}

/** A use case's rejection, as the API reports it. */
export function useCaseProblem(error: UseCaseError): HttpProblem {
  return new HttpProblem(error.code, error.message, { errors: fieldErrorsOf(error) });
}

/** INVALID_FLOW carries core's per-field problems; surface them like validation errors. */
function fieldErrorsOf(error: UseCaseError): FieldError[] {
  const problems = error.details?.problems;
  if (!Array.isArray(problems)) {
    return [];
  }
  return problems.flatMap((p: unknown) => {
    if (typeof p !== "object" || p === null) {
      return [];
    }
    const { path, message } = p as { path?: unknown; message?: unknown };
    return typeof path === "string" && typeof message === "string"
      ? [{ path: path === "" ? "body" : `body.${path.replace(/\[(\d+)\]/g, ".$1")}`, message }]
      : [];
  });
}
