import { AppError } from "./app-error.js";
import type { IdentityCenter } from "./identity-center.js";
import type { Deps, PeopleDirectory } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { err, ok, type Result } from "./result.js";

export type RepinIdentityDeps = Deps & {
  identityCenter: IdentityCenter;
  /** Slack's view of the person; absent when no Slack is configured (the email alone decides). */
  people?: PeopleDirectory;
};

export type Repinned = {
  identityId: string;
  email: string;
  principalId: string;
  /** The pinned user Identity Center no longer has; null when another run already moved the pin. */
  previousPrincipalId: string | null;
};

/**
 * An identity provider can re-provision a user (SCIM delete + create) under a new Identity Center
 * id. When AWS says the pinned user is gone, the person is looked up again by the same email, and
 * Slack is asked whether the same Slack user still has it, so the pin moves to the same person or
 * nowhere: a user really gone, a deactivated Slack account or an email that changed is refused with
 * what to fix. The move is audited with both ids (security-relevant: the caller alerts on it).
 */
export async function repinIdentity(
  deps: RepinIdentityDeps,
  input: { identityId: string; missingPrincipalId: string },
): Promise<Result<Repinned>> {
  const identity = await deps.uow.run((tx) => tx.identities.findById(input.identityId));
  if (identity === null) {
    throw new AppError("IDENTITY_VANISHED", `identity ${input.identityId} does not exist`, {
      retryable: false,
    });
  }
  const { email } = identity;
  const gone = `Identity Center no longer has user ${input.missingPrincipalId}, the one Keyturn pinned for ${email}`;
  if (identity.identityStoreUserId !== null && identity.identityStoreUserId !== input.missingPrincipalId) {
    // Another run moved the pin meanwhile.
    return ok({
      identityId: identity.id,
      email,
      principalId: identity.identityStoreUserId,
      previousPrincipalId: null,
    });
  }
  if (identity.slackUserId !== null && deps.people !== undefined) {
    const person = await deps.people.slackUser(identity.slackUserId);
    if (person.status !== "active") {
      return err(
        "IDENTITY_NOT_FOUND",
        `${gone}, and Slack user ${identity.slackUserId} is ${person.status === "deactivated" ? "deactivated" : "gone"}: the person has left. Nothing was granted.`,
        { reason: "slack_user_gone" },
      );
    }
    if (person.email === null || person.email.toLowerCase() !== email) {
      return err(
        "IDENTITY_NOT_FOUND",
        `${gone}, and Slack user ${identity.slackUserId} now has the email ${person.email ?? "(none)"} instead of ${email}. Keyturn will not guess who the new Identity Center user is: ask a Keyturn admin to check this person's identity (or restore ${email} on their Slack profile). Nothing was granted.`,
        { reason: "email_changed" },
      );
    }
  }
  const user = await deps.identityCenter.findUserByEmail(email);
  if (!user.ok) {
    return user.error.code === "IDENTITY_NOT_FOUND"
      ? err(
          "IDENTITY_NOT_FOUND",
          `${gone}, and no Identity Center user has the email or user name ${email} now: the user was removed from Identity Center (or their email changed there). Ask an Identity Center administrator to restore the user with this email. Nothing was granted.`,
          { reason: "user_gone" },
        )
      : user;
  }
  const principalId = user.value.userId;
  if (principalId === input.missingPrincipalId) {
    // Identity Center lists the user again (eventual consistency): nothing to move.
    return ok({ identityId: identity.id, email, principalId, previousPrincipalId: null });
  }
  const moved = await deps.uow.run(async (tx) => {
    const result = await tx.assignments.repinPrincipal({
      identityId: identity.id,
      from: input.missingPrincipalId,
      to: principalId,
      at: deps.clock.now(),
    });
    if (result !== "taken" && result.repinned) {
      await tx.audit.append({
        actor: SYSTEM,
        action: "identity.repinned",
        data: {
          identityId: identity.id,
          email,
          slackUserId: identity.slackUserId,
          previousIdentityStoreUserId: input.missingPrincipalId,
          identityStoreUserId: principalId,
          reason: "the pinned Identity Center user no longer exists",
        },
      });
    }
    return result;
  });
  if (moved === "taken") {
    return err(
      "IDENTITY_AMBIGUOUS",
      `${gone}; Identity Center user ${principalId} has ${email} now, but Keyturn has it pinned to another person. Ask a Keyturn admin to check both identities. Nothing was granted.`,
      { reason: "taken" },
    );
  }
  return ok({
    identityId: identity.id,
    email,
    principalId: moved.principalId,
    previousPrincipalId: moved.repinned ? input.missingPrincipalId : null,
  });
}
