import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { err, ok, type Result } from "./result.js";

/**
 * Nobody could be asked (no Slack user has the email, or Keyturn runs without Slack): the sign-in
 * ends at once, so the CLI says so instead of waiting out its five minutes. Only a pending one.
 */
export async function failCliSignIn(
  deps: Deps,
  input: { signInId: string; reason: string },
): Promise<Result<{ failed: boolean }>> {
  return deps.uow.run(async (tx) => {
    const signIn = await tx.signIns.lock(input.signInId);
    if (signIn === null) {
      return err("SIGN_IN_NOT_FOUND", `no sign-in ${input.signInId}`);
    }
    if (signIn.status !== "pending") {
      return ok({ failed: false });
    }
    await tx.signIns.update(signIn.id, { status: "undeliverable", decidedAt: deps.clock.now() });
    await tx.audit.append({
      actor: SYSTEM,
      action: "signin.undeliverable",
      data: {
        signInId: signIn.id,
        email: signIn.email,
        slackUserId: signIn.slackUserId,
        reason: input.reason,
      },
    });
    return ok({ failed: true });
  });
}
