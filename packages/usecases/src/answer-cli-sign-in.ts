import type { CliSignInRecord, Deps } from "./ports.js";
import { err, ok, type Result } from "./result.js";

/** Who clicked in Slack, as Slack vouches for them (the edge resolved the click's user). */
export type SignInAnswerer = { slackUserId: string; email: string };

/**
 * The person answers their sign-in in Slack. Only that person counts: the clicker's Slack user
 * must be the one asked (when the CLI named a Slack user) and their email the one asked for (when
 * it named an email), so a DM forwarded or a button replayed by someone else changes nothing.
 * Approving pins who the token will be for: the email, Slack user and Identity Center user.
 */
export async function answerCliSignIn(
  deps: Deps,
  input: { signInId: string; decision: "approve" | "reject"; by: SignInAnswerer },
): Promise<Result<CliSignInRecord>> {
  return deps.uow.run(async (tx) => {
    const signIn = await tx.signIns.lock(input.signInId);
    if (signIn === null) {
      return err("SIGN_IN_NOT_FOUND", `no sign-in ${input.signInId}`);
    }
    const email = input.by.email.toLowerCase();
    if (
      (signIn.slackUserId !== null && signIn.slackUserId !== input.by.slackUserId) ||
      (signIn.email !== null && signIn.email !== email)
    ) {
      return err("SIGN_IN_NOT_YOURS", "this sign-in is for someone else; only they can answer it");
    }
    if (signIn.status !== "pending") {
      return err("SIGN_IN_DECIDED", `this sign-in was ${signIn.status} already`);
    }
    const now = deps.clock.now();
    if (signIn.expiresAt <= now) {
      return err("SIGN_IN_EXPIRED", "this sign-in expired; run keyturn login again");
    }
    const identity = await tx.identities.ensureByEmail(email);
    const status = input.decision === "approve" ? "approved" : "rejected";
    const change = {
      status,
      email,
      slackUserId: input.by.slackUserId,
      decidedAt: now,
      identityStoreUserId: identity.identityStoreUserId,
    } as const;
    await tx.signIns.update(signIn.id, change);
    await tx.audit.append({
      actor: { type: "identity", id: email, label: `slack:${input.by.slackUserId}` },
      action: input.decision === "approve" ? "signin.approved" : "signin.rejected",
      data: {
        signInId: signIn.id,
        code: signIn.code,
        host: signIn.host,
        email,
        slackUserId: input.by.slackUserId,
        identityStoreUserId: identity.identityStoreUserId,
      },
    });
    return ok({ ...signIn, ...change });
  });
}
