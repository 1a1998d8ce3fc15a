import type { Payload } from "@keyturn/queue";
import { AppError, type Deps, failCliSignIn, type SignInNotifier } from "@keyturn/usecases";

/** Asks the person in Slack; when nobody can be asked, the sign-in fails at once (audited). */
export function signInNotifyHandler(deps: { notifier: SignInNotifier; usecases: Deps }) {
  return async (payload: Payload<"signin.notify">) => {
    const outcome = await deps.notifier.notifySignIn(payload);
    if (outcome !== "unreachable") {
      return;
    }
    const failed = await failCliSignIn(deps.usecases, {
      signInId: payload.signInId,
      reason: "nobody in Slack to ask",
    });
    if (!failed.ok) {
      throw new AppError(failed.error.code, failed.error.message, { retryable: false });
    }
  };
}
