import { assignmentsNeedingReconcile, type Db, pendingRequestsPastTimeout } from "@keyturn/db";
import type { Producer } from "@keyturn/queue";
import { type BucketPolicyS3Deps, expireSessionCutoffs } from "@keyturn/usecases";

/**
 * The safety net for lost jobs (a Redis flush, a crash between commit and enqueue): re-derives from
 * the database every assignment that may be out of line and every pending request past its
 * deadline, and enqueues them. Job ids carry the sweep's instant, so each sweep enqueues afresh and
 * one sweep never enqueues the same work twice.
 */
export function sweepLeasesHandler(deps: {
  db: Db;
  producer: Producer;
  now: () => Date;
  bucketPolicies?: BucketPolicyS3Deps;
}) {
  return async (): Promise<void> => {
    const now = deps.now();
    const stamp = now.getTime();
    for (const assignmentId of await assignmentsNeedingReconcile(deps.db, now)) {
      await deps.producer.enqueue(
        "assignment.reconcile",
        { assignmentId, cause: "sweep" },
        { jobId: `sweep-reconcile-${assignmentId}-${stamp}`, now },
      );
    }
    for (const requestId of await pendingRequestsPastTimeout(deps.db, now)) {
      await deps.producer.enqueue(
        "request.time-out",
        { requestId },
        { jobId: `sweep-timeout-${requestId}-${stamp}`, now },
      );
    }
    if (deps.bucketPolicies !== undefined) {
      // Session cut-offs whose sessions have all expired leave the bucket policies.
      await expireSessionCutoffs(deps.bucketPolicies);
    }
  };
}
