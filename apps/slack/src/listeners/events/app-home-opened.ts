import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { publishHome } from "../../home.js";
import type { Services } from "../../services.js";

/** Opening the Home tab (re)publishes it; Bolt has acknowledged the event already. */
export function appHomeOpened(services: Services) {
  return async ({ event, client }: SlackEventMiddlewareArgs<"app_home_opened"> & AllMiddlewareArgs) => {
    if (event.tab !== "home") {
      return;
    }
    try {
      await services.afterAck.run(() => publishHome(services, client, event.user));
    } catch (error) {
      services.logger.error({ err: error, userId: event.user }, "could not publish the App Home");
    }
  };
}
