import type { Logger } from "@keyturn/observability";
import type { Repinned } from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";

/**
 * A moved pin is security-relevant (someone's access now goes to another Identity Center user id):
 * besides its audit event and state-change line, it is a warning to alert on and a counter.
 */
export function alertRepinned(
  logger: Logger,
  metrics: Pick<WorkerMetrics, "identityRepins">,
  moved: Repinned,
): void {
  metrics.identityRepins.inc();
  logger.warn(
    {
      alert: "identity_repinned",
      identityId: moved.identityId,
      email: moved.email,
      previousIdentityStoreUserId: moved.previousPrincipalId,
      identityStoreUserId: moved.principalId,
    },
    "the pinned Identity Center user is gone: pin moved to the same person's new user",
  );
}
