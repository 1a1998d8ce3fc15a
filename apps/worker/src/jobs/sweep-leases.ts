import {
  assignmentsNeedingReconcile,
  type Db,
  pendingOnCallChecks,
  pendingRequestsPastTimeout,
} from "@keyturn/db";
import type { Producer } from "@keyturn/queue";
import {
  type BucketPolicyS3Deps,
  refreshSessionCutoffs,
  type SessionCutoffDeps,
  SWEEP_LOOKBACK_MS,
  staleBuckets,
} from "@keyturn/usecases";

/** A bucket whose wanted change has waited this long gets another apply from the sweep. */
export const STALE_APPLY_MS = 10_000;

/**
 * The safety net for lost jobs (a Redis flush, a crash between commit and enqueue): re-derives from
 * the database every assignment that may be out of line and every pending request past its
 * deadline (and every on-call check that should have been recorded by now), and enqueues them. Job ids carry the sweep's instant, so each sweep enqueues afresh and
 * one sweep never enqueues the same work twice. With protected buckets it also arms any session
 * cut-off a lost run missed, ends the expired ones, and applies again every bucket whose wanted
 * change has not landed (its job lost, or S3 refusing).
 */
export function sweepLeasesHandler(deps: {
  db: Db;
  producer: Producer;
  now: () => Date;
  bucketPolicies?: SessionCutoffDeps & BucketPolicyS3Deps;
  /** An on-call check not recorded this long after submission is asked again. */
  onCallCheckGraceMs: number;
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
    for (const requestId of await pendingOnCallChecks(deps.db, now, deps.onCallCheckGraceMs)) {
      await deps.producer.enqueue(
        "request.on-call-check",
        { requestId },
        { jobId: `sweep-on-call-${requestId}-${stamp}`, now },
      );
    }
    if (deps.bucketPolicies !== undefined) {
      await refreshSessionCutoffs(deps.bucketPolicies, {
        since: new Date(stamp - SWEEP_LOOKBACK_MS),
        sweep: true,
      });
      for (const bucket of await staleBuckets(deps.bucketPolicies, { olderThanMs: STALE_APPLY_MS })) {
        await deps.producer.enqueue(
          "bucket.apply",
          { bucket },
          { jobId: `sweep-apply-${bucket}-${stamp}`, now },
        );
      }
    }
  };
}
