import type { Db } from "@keyturn/db";
import { type Payload, RunLater } from "@keyturn/queue";
import {
  AppError,
  cutOffSessions,
  type ReconcileDeps,
  reconcileAssignment,
  type SessionCutoffDeps,
} from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";

/**
 * Runs the reconciler for one assignment. "Busy" (another worker holds the claim) is retryable,
 * so the job comes back after backoff instead of being lost; "pending" (AWS is still deleting)
 * brings the same job back after the reconciler's delay, without holding a worker meanwhile; when the run removed access, the
 * revocation lag — from the lease's end to the assignment being gone — is observed.
 */
export function assignmentReconcileHandler(deps: {
  reconcile: ReconcileDeps;
  db: Db;
  metrics: WorkerMetrics;
  /** Protected buckets: live sessions of a user whose access ended are refused there too. */
  bucketPolicies?: SessionCutoffDeps;
}) {
  return async (payload: Payload<"assignment.reconcile">): Promise<void> => {
    const result = await reconcileAssignment(deps.reconcile, { assignmentId: payload.assignmentId });
    if (!result.ok) {
      throw new AppError(result.error.code, result.error.message, { retryable: false });
    }
    const report = result.value;
    if (report.outcome === "busy") {
      throw new AppError(
        "ASSIGNMENT_BUSY",
        `assignment ${payload.assignmentId} is being reconciled elsewhere`,
        {
          retryable: true,
        },
      );
    }
    if (report.outcome === "pending") {
      throw new RunLater(
        report.retryAfterMs ?? 1000,
        `AWS is still carrying out a change to assignment ${payload.assignmentId}`,
      );
    }
    if (deps.bucketPolicies !== undefined) {
      // Deleting an assignment leaves sessions running until they expire; the cut-off closes the
      // data to them within this same job. A failed re-apply throws retryable and the job retries.
      const cutoff = await cutOffSessions(deps.bucketPolicies, { assignmentId: payload.assignmentId });
      if (!cutoff.ok && cutoff.error.code !== "ASSIGNMENT_NOT_FOUND") {
        throw new AppError(cutoff.error.code, cutoff.error.message, { retryable: false });
      }
    }
    if (report.actions.includes("deleted")) {
      const leases = await deps.db.lease.findMany({ where: { assignmentId: payload.assignmentId } });
      const ends = leases.map((l) =>
        Math.min(l.endsAt.getTime(), l.releasedAt?.getTime() ?? Number.POSITIVE_INFINITY),
      );
      if (ends.length > 0) {
        const lagSeconds = (deps.reconcile.clock.now().getTime() - Math.max(...ends)) / 1000;
        deps.metrics.revocationLag.observe(Math.max(0, lagSeconds));
      }
    }
  };
}
