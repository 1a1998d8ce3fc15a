import type { Logger } from "@keyturn/observability";
import type { Notifier } from "@keyturn/usecases";

/** Used when no Slack is configured: the notification is at least in the logs. */
export function createLogNotifier(logger: Logger): Notifier {
  return {
    async notify(notification) {
      logger.info({ ...notification }, "request changed (no Slack configured)");
    },
  };
}
