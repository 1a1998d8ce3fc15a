// AWS adapters: IAM Identity Center (sso-admin + identitystore) behind the usecases'
// IdentityCenter port, S3 bucket policies, one AppError translation and one process-wide limiter.
export { type AwsErrorCode, translateAwsError } from "./errors.js";
export {
  createIdentityCenter,
  type IdentityCenterAdapter,
  type IdentityCenterOptions,
} from "./identity-center-client.js";
export { parseIsoDurationSeconds } from "./iso-duration.js";
export { createKeyturnIdentity, type KeyturnIdentityOptions } from "./keyturn-identity.js";
export {
  type CallKind,
  createRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
} from "./rate-limiter.js";
export type { AdapterLogger, AwsCallObservation, AwsCallObserver, RetryOptions } from "./retry.js";
export {
  type BucketEncryptionConfig,
  type BucketPolicyStore,
  type BucketPolicyStoreOptions,
  createBucketPolicyStore,
} from "./s3-client.js";
export type { AwsCredentials } from "./sdk-config.js";
export { systemTime, type TimeSource } from "./time-source.js";
