import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { openRequestModal } from "../../open-request-modal.js";
import { OpenModalButtonSchema } from "../../payloads.js";
import { afterAck, ephemeralReply } from "../../reply.js";
import type { Services } from "../../services.js";

/** The Home tab's "Request access" button: the same modal as `/access`. */
export function openRequestModalAction(services: Services) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => {
    await ack();
    const parsed = OpenModalButtonSchema.safeParse(body);
    if (!parsed.success) {
      services.logger.warn({ issues: parsed.error.issues.length }, "malformed open-modal click");
      return;
    }
    const userId = parsed.data.user.id;
    const reply = ephemeralReply({ client, userId, hasResponseUrl: false });
    await afterAck(services, { interaction: "open_modal", urgent: true, userId }, reply, () =>
      openRequestModal(services, { client, userId, triggerId: parsed.data.trigger_id, text: "", reply }),
    );
  };
}
