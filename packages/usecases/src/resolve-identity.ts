import { AppError } from "./app-error.js";
import type { IdentityCenter } from "./identity-center.js";
import type { Deps, PeopleDirectory } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { type Repinned, repinIdentity } from "./repin-identity.js";
import { ok, type Result } from "./result.js";

export type ResolveIdentityDeps = Deps & { identityCenter: IdentityCenter; people?: PeopleDirectory };

export type ResolvedIdentity = {
  principalId: string;
  pinnedNow: boolean;
  /** Set when the pinned user was gone and the pin moved (alert on it). */
  repinned?: Repinned;
};

/**
 * Finds the requester's IAM Identity Center user and pins it to the identity, once: later email
 * changes in Identity Center cannot redirect access. Run when a request is submitted, so that the
 * approval goes straight to CreateAccountAssignment, and again by the reconciler if that has not
 * happened yet. A user who cannot be found (or is ambiguous) is an answer, not a failure.
 *
 * `verifyPinned` (at submission, off the approval's path) also checks that the pinned user still
 * exists, and re-pins a re-provisioned user before anyone approves.
 */
export async function resolveIdentity(
  deps: ResolveIdentityDeps,
  input: { identityId: string; verifyPinned?: boolean },
): Promise<Result<ResolvedIdentity>> {
  const identity = await deps.uow.run((tx) => tx.identities.findById(input.identityId));
  if (identity === null) {
    throw new AppError("IDENTITY_VANISHED", `identity ${input.identityId} does not exist`, {
      retryable: false,
    });
  }
  const pinned = identity.identityStoreUserId;
  if (pinned !== null) {
    if (input.verifyPinned !== true || (await deps.identityCenter.userExists(pinned))) {
      return ok({ principalId: pinned, pinnedNow: false });
    }
    const moved = await repinIdentity(deps, { identityId: identity.id, missingPrincipalId: pinned });
    return moved.ok
      ? ok({
          principalId: moved.value.principalId,
          pinnedNow: false,
          ...(moved.value.previousPrincipalId === null ? {} : { repinned: moved.value }),
        })
      : moved;
  }
  const user = await deps.identityCenter.findUserByEmail(identity.email);
  if (!user.ok) {
    return { ok: false, error: user.error };
  }
  const pin = await deps.uow.run(async (tx) => {
    const result = await tx.assignments.pinPrincipal(identity.id, user.value.userId, deps.clock.now());
    if (result.pinned) {
      await tx.audit.append({
        actor: SYSTEM,
        action: "identity.pinned",
        data: { identityId: identity.id, email: identity.email, identityStoreUserId: user.value.userId },
      });
    }
    return result;
  });
  return ok({ principalId: pin.principalId, pinnedNow: pin.pinned });
}
