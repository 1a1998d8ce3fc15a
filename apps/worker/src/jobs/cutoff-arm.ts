import type { Logger } from "@keyturn/observability";
import {
  ARM_LOOKBACK_MS,
  type BucketPolicyS3Deps,
  refreshSessionCutoffs,
  type SessionCutoffDeps,
} from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";
import { applyForCutoffs } from "./bucket-apply.js";

/**
 * At a lease's end (one run per instant, however many leases end then) or on a revocation: arms
 * the session cut-offs of every lease ended by now, then applies the buckets they concern at once,
 * in this job (waiting out the 1 s spacing if need be), rather than wait for a free worker behind
 * the removals queued at the Identity Center quota. The `bucket.apply` messages written with the
 * cut-offs are the crash guarantee; their jobs find nothing left to do otherwise. The
 * removal from Identity Center runs on its own, at the quota; this does not wait for it.
 */
export function cutoffArmHandler(deps: {
  bucketPolicies?: SessionCutoffDeps & BucketPolicyS3Deps;
  metrics: WorkerMetrics;
  logger: Logger;
}) {
  return async (): Promise<void> => {
    const buckets = deps.bucketPolicies;
    if (buckets === undefined) {
      return;
    }
    const now = buckets.clock.now();
    const report = await refreshSessionCutoffs(buckets, { since: new Date(now.getTime() - ARM_LOOKBACK_MS) });
    const applied = await Promise.allSettled(
      report.buckets.map((bucket) => applyForCutoffs(buckets, bucket, deps)),
    );
    for (const [index, outcome] of applied.entries()) {
      if (outcome.status === "rejected") {
        // Counted and audited already; the bucket's own job retries it.
        deps.logger.warn(
          { err: outcome.reason, bucket: report.buckets[index] },
          "cut-off apply failed; its job retries",
        );
      }
    }
  };
}
