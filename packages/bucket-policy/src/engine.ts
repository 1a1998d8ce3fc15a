import { analyzeEffectiveAccess } from "./effective-access.js";
import { generateBucketPolicy, sessionCutoffCapacity } from "./generate.js";
import { livePolicyFingerprint, planBucketPolicy } from "./merge.js";
import { parseBucketSpec, permissionSetsOf } from "./spec.js";

/**
 * The package's policy functions as one object, the shape the use cases' BucketPolicyEngine port
 * expects (usecases cannot import this package; the composition roots pass this in).
 */
export const bucketPolicyEngine = {
  parseSpec: parseBucketSpec,
  generate: generateBucketPolicy,
  plan: planBucketPolicy,
  fingerprint: livePolicyFingerprint,
  permissionSetsOf,
  analyzeEffectiveAccess,
  sessionCutoffCapacity,
} as const;
