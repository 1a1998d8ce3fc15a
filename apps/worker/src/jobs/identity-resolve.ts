import type { Logger } from "@keyturn/observability";
import type { JobContext, Payload } from "@keyturn/queue";
import { type ResolveIdentityDeps, resolveIdentity } from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";
import { alertRepinned } from "./repin-alert.js";

/**
 * Pins a new requester's Identity Center user while the request waits for approval, and checks
 * that a pinned user still exists (re-pinning a re-provisioned one) before anyone approves. A user
 * who is not there (yet) is no failure here: the approval's reconcile looks again and, if still
 * missing, fails the request with the reason.
 */
export function identityResolveHandler(
  deps: ResolveIdentityDeps & { logger: Logger; metrics: Pick<WorkerMetrics, "identityRepins"> },
) {
  return async (payload: Payload<"identity.resolve">, job: JobContext): Promise<void> => {
    const logger = deps.logger.child({ identityId: payload.identityId, jobId: job.jobId });
    const result = await resolveIdentity(deps, { identityId: payload.identityId, verifyPinned: true });
    if (!result.ok) {
      logger.warn(
        { code: result.error.code, reason: result.error.message },
        "requester not resolved in Identity Center",
      );
      return;
    }
    if (result.value.repinned !== undefined) {
      alertRepinned(logger, deps.metrics, result.value.repinned);
    }
  };
}
