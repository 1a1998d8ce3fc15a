import type { Logger } from "@keyturn/observability";
import {
  type BucketPolicyS3Deps,
  checkBucketPolicyDrift,
  type Deps,
  type IdentityCenter,
  scanDrift,
} from "@keyturn/usecases";

/**
 * Reports (and, where a flow says so, removes) assignments Keyturn neither granted nor found, and
 * compares every protected bucket's live policy with the one Keyturn applied: whoever may
 * PutBucketPolicy may rewrite the rules, so a change is an alert.
 */
export function sweepDriftHandler(
  deps: Deps & { identityCenter: IdentityCenter; logger: Logger; bucketPolicies?: BucketPolicyS3Deps },
) {
  return async (): Promise<void> => {
    const result = await scanDrift(deps);
    for (const finding of result.findings.filter((f) => f.isNew)) {
      // The alert: an operator must look at every new one (someone granted themselves the data role?).
      deps.logger.warn(
        { alert: "drift", ...finding },
        "ALERT: an assignment Keyturn did not grant was found",
      );
    }
    if (deps.bucketPolicies !== undefined) {
      const buckets = await checkBucketPolicyDrift(deps.bucketPolicies);
      for (const bucket of buckets.buckets) {
        if ("newlyDetected" in bucket && bucket.newlyDetected) {
          deps.logger.warn(
            { alert: "bucket_policy_drift", bucket },
            "ALERT: a protected bucket's policy was changed outside Keyturn",
          );
        }
      }
    }
  };
}
