import type { Logger } from "@keyturn/observability";
import type { Notifier, SignInNotifier } from "@keyturn/usecases";

/** Used when no Slack is configured: the notification is at least in the logs. */
export function createLogNotifier(logger: Logger): Notifier & SignInNotifier {
  return {
    async notifySignIn(signIn) {
      // Without Slack nobody can approve a sign-in: it expires unanswered, and the log says why.
      logger.warn({ ...signIn }, "keyturn login asked for, but no Slack is configured to ask the person");
      return "unreachable";
    },
    async notify(notification) {
      logger.info({ ...notification }, "request changed (no Slack configured)");
    },
  };
}
