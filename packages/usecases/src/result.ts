import type { DecideError } from "@keyturn/core";

export type UseCaseErrorCode =
  | DecideError["code"]
  | "FLOW_NOT_FOUND"
  | "FLOW_ARCHIVED"
  | "INVALID_FLOW"
  | "TOKEN_NOT_FOUND"
  | "TOKEN_REVOKED"
  | "IDENTITY_NOT_FOUND"
  | "IDENTITY_AMBIGUOUS";

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
