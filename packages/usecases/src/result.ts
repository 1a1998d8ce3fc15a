import type { DecideError } from "@keyturn/core";

export type UseCaseErrorCode =
  | DecideError["code"]
  | "FLOW_NOT_FOUND"
  | "FLOW_ARCHIVED"
  | "INVALID_FLOW"
  | "TOKEN_NOT_FOUND"
  | "TOKEN_REVOKED"
  /** The minter lacks a scope it tried to grant. */
  | "SCOPE_NOT_HELD"
  /** A person token for someone other than the minter's own person. */
  | "FOREIGN_TOKEN_OWNER"
  /** A minted token would outlive the token that minted it. */
  | "EXPIRY_BEYOND_MINTER"
  /** The revoker could not have granted the token's scopes. */
  | "TOKEN_BEYOND_REACH"
  /** An idempotency key already used for a different request. */
  | "IDEMPOTENCY_KEY_REUSED"
  | "IDENTITY_NOT_FOUND"
  | "IDENTITY_AMBIGUOUS"
  /** No `keyturn login` with this handle (or id). */
  | "SIGN_IN_NOT_FOUND"
  /** The sign-in was not answered (or not redeemed) in time. */
  | "SIGN_IN_EXPIRED"
  /** The person said no in Slack. */
  | "SIGN_IN_REJECTED"
  /** Its token was handed out already: a sign-in yields one token, once. */
  | "SIGN_IN_REDEEMED"
  /** Answered already (approved or rejected). */
  | "SIGN_IN_DECIDED"
  /** The person could not be reached in Slack to ask (unknown there, or no Slack configured). */
  | "SIGN_IN_UNDELIVERABLE"
  /** Someone other than the person signing in answered. */
  | "SIGN_IN_NOT_YOURS";

export type UseCaseError = { code: UseCaseErrorCode; message: string; details?: Record<string, unknown> };
export type Result<T> = { ok: true; value: T } | { ok: false; error: UseCaseError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(
  code: UseCaseErrorCode,
  message: string,
  details?: Record<string, unknown>,
): Result<T> => ({
  ok: false,
  error: details === undefined ? { code, message } : { code, message, details },
});
