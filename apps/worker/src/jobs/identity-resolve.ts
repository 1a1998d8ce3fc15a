import type { Logger } from "@keyturn/observability";
import type { Payload } from "@keyturn/queue";
import { type ResolveIdentityDeps, resolveIdentity } from "@keyturn/usecases";

/**
 * Pins a new requester's Identity Center user while the request waits for approval. A user who
 * is not there (yet) is no failure here: the approval's reconcile looks again and, if still
 * missing, fails the request with the reason.
 */
export function identityResolveHandler(deps: ResolveIdentityDeps & { logger: Logger }) {
  return async (payload: Payload<"identity.resolve">): Promise<void> => {
    const result = await resolveIdentity(deps, { identityId: payload.identityId });
    if (!result.ok) {
      deps.logger.warn(
        { identityId: payload.identityId, code: result.error.code },
        "requester not resolved in Identity Center yet",
      );
    }
  };
}
