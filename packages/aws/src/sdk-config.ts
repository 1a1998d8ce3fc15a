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

// The Identity Store operations the Identity Center adapter calls; everything else it calls is
// sso-admin. Only used to label observations (metrics), so a new operation missing here is
// mislabelled, never misrouted.
const IDENTITY_STORE_OPERATIONS: ReadonlySet<string> = new Set(["GetUserId", "DescribeUser"]);

/** The service an Identity Center adapter operation goes to, as AWS_ENDPOINT_URL_* names it. */
export function identityCenterService(operation: string): "identitystore" | "sso-admin" {
  return IDENTITY_STORE_OPERATIONS.has(operation) ? "identitystore" : "sso-admin";
}
