import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import { openRequestModal } from "../../open-request-modal.js";
import { SlashCommandSchema } from "../../payloads.js";
import { afterAck, ephemeralReply } from "../../reply.js";
import type { Services } from "../../services.js";

/** `/access [flow] [duration] [reason…]`: opens the request modal, pre-filled from the text. */
export function accessCommand(services: Services) {
  return async ({ ack, command, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    const parsed = SlashCommandSchema.safeParse(command);
    if (!parsed.success) {
      services.logger.warn({ issues: parsed.error.issues.length }, "malformed /access payload");
      await respond({
        response_type: "ephemeral",
        text: "Keyturn could not read that command; please try again.",
      });
      return;
    }
    const { user_id: userId, trigger_id: triggerId, text } = parsed.data;
    const reply = ephemeralReply({ client, userId, respond, hasResponseUrl: true });
    await afterAck(services, { interaction: "/access", urgent: true, userId }, reply, () =>
      openRequestModal(services, { client, userId, triggerId, text, reply }),
    );
  };
}
