import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { afterAck, ephemeralReply } from "../../reply.js";
import type { Services } from "../../services.js";

export const STALE_BUTTON_TEXT =
  "That button is no longer valid (the message is from an older version of Keyturn, or it changed " +
  "since). Nothing was done. Type `/access` or open Keyturn's Home tab to continue.";

/**
 * A button Keyturn does not know (an old message, a renamed button): acknowledged like every other
 * interaction, so Slack shows no error after 3 s, and the clicker is told that nothing happened.
 */
export function unknownAction(services: Services) {
  return async ({
    ack,
    body,
    action,
    client,
    respond,
  }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    services.logger.warn(
      // Only the id's shape: it is whatever the message carried.
      { interaction: "unknown", actionId: action.action_id.slice(0, 64), userId },
      "a click on a button Keyturn does not know",
    );
    const reply = ephemeralReply({
      client,
      userId,
      respond,
      hasResponseUrl: typeof (body as { response_url?: unknown }).response_url === "string",
    });
    await afterAck(services, { interaction: "unknown", userId }, reply, () => reply(STALE_BUTTON_TEXT));
  };
}
