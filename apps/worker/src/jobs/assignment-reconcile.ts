import { type Db, leaseEndsOfAssignment } from "@keyturn/db";
import type { Logger } from "@keyturn/observability";
import { type JobContext, type Payload, RunLater } from "@keyturn/queue";
import {
  AppError,
  type BucketPolicyS3Deps,
  prepareGrant,
  type ReconcileDeps,
  reconcileAssignment,
  refreshSessionCutoffs,
  type SessionCutoffDeps,
} from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";
import { applyForCutoffs } from "./bucket-apply.js";
import { alertRepinned } from "./repin-alert.js";

// Another run holds the assignment (a live one: a dead holder's claim is gone with its
// connection). It is usually done within a few seconds; looking again soon costs no attempt.
const BUSY_RETRY_MS = 500;

/**
 * Runs the reconciler for one assignment. "Busy" (another run holds the claim) and "pending" (AWS
 * is still carrying out a change) bring the same job back after a delay without holding a worker
 * or using an attempt; when the run removed access, the revocation lag — from the lease's end to
 * the assignment being gone — is observed.
 *
 * With protected buckets, right before each create and after the run: a grant of a set whose
 * earlier sessions are cut off waits until the cut-off refuses only sessions issued before the new grant (in every
 * bucket's policy, and that instant has passed), so the new grant's sessions are never refused;
 * after it, the cut-off takes what the run learned (the removal confirmed).
 */
export function assignmentReconcileHandler(deps: {
  reconcile: ReconcileDeps;
  db: Db;
  metrics: WorkerMetrics;
  logger: Logger;
  bucketPolicies?: SessionCutoffDeps & BucketPolicyS3Deps;
}) {
  return async (payload: Payload<"assignment.reconcile">, job: JobContext): Promise<void> => {
    const logger = deps.logger.child({
      assignmentId: payload.assignmentId,
      cause: payload.cause,
      jobId: job.jobId,
      ...(payload.requestId === undefined ? {} : { requestId: payload.requestId }),
    });
    const buckets = deps.bucketPolicies;
    const reconcile: ReconcileDeps =
      buckets === undefined
        ? deps.reconcile
        : {
            ...deps.reconcile,
            // Under the claim, right before the create: a run of any cause may be the one that
            // grants (a removal's retry that finds a new lease), and nothing can slip in between.
            beforeCreate: async (assignmentId) => {
              const prepared = await prepareGrant(buckets, { assignmentId });
              for (const bucket of prepared.buckets) {
                await applyForCutoffs(buckets, bucket, { ...deps, logger });
              }
              const waitMs = (prepared.boundary?.getTime() ?? 0) - buckets.clock.now().getTime();
              if (waitMs > 0) {
                // At most a second: the boundary is the new grant's start rounded up to the second.
                await new Promise((resolve) => setTimeout(resolve, waitMs));
              }
            },
          };
    const result = await reconcileAssignment(reconcile, { assignmentId: payload.assignmentId });
    if (!result.ok) {
      throw new AppError(result.error.code, result.error.message, { retryable: false });
    }
    const report = result.value;
    // Each change is logged once, from its audit event (logStateChanges); a moved pin also alerts.
    for (const moved of report.repinned) {
      alertRepinned(logger, deps.metrics, moved);
    }
    if (report.outcome === "busy") {
      throw new RunLater(
        BUSY_RETRY_MS,
        `assignment ${payload.assignmentId} is being reconciled by another run`,
      );
    }
    if (report.outcome === "pending") {
      throw new RunLater(
        report.retryAfterMs ?? 1000,
        `AWS is still carrying out a change to assignment ${payload.assignmentId}`,
      );
    }
    if (buckets !== undefined && (report.actions.length > 0 || report.activated.length > 0)) {
      // What the run changed in AWS (a removal confirmed, a grant made) may change a cut-off.
      await refreshSessionCutoffs(buckets, {
        since: buckets.clock.now(),
        assignmentIds: [payload.assignmentId],
      });
    }
    if (report.actions.includes("deleted")) {
      const ends = (await leaseEndsOfAssignment(deps.db, payload.assignmentId)).map((end) => end.getTime());
      if (ends.length > 0) {
        const lagSeconds = (deps.reconcile.clock.now().getTime() - Math.max(...ends)) / 1000;
        deps.metrics.revocationLag.observe(Math.max(0, lagSeconds));
      }
    }
  };
}
