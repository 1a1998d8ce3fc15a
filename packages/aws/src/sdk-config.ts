import type { SSOAdminClientConfig } from "@aws-sdk/client-sso-admin";

/** Static keys or a provider, as every SDK v3 client accepts them. */
export type AwsCredentials = NonNullable<SSOAdminClientConfig["credentials"]>;

/**
 * What every client this package builds shares. `maxAttempts: 1` because retries happen in
 * callAws (retry.ts), where each attempt takes a limiter token and is logged; the SDK's own retries
 * would be invisible to both. The timeouts make a stalled socket a retryable AWS_UNAVAILABLE
 * instead of a job that hangs; AWS answers these calls in well under a second.
 */
export const sdkClientDefaults = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 5000, requestTimeout: 30_000 },
} as const;
