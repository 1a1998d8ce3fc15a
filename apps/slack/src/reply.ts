import type { RespondFn } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Services } from "./services.js";
import { failureText } from "./slack-errors.js";

/** Says something to one person only. */
export type Reply = (text: string) => Promise<void>;

/**
 * Ephemeral replies go back through the interaction's response_url where there is one (a message
 * in a channel, a slash command); clicks in the Home tab or a modal have none, so those answers go
 * to the person's DM with the app, still visible to them only.
 */
export function ephemeralReply(input: {
  client: WebClient;
  userId: string;
  respond?: RespondFn | undefined;
  hasResponseUrl: boolean;
}): Reply {
  return async (text) => {
    if (input.respond !== undefined && input.hasResponseUrl) {
      await input.respond({ response_type: "ephemeral", replace_original: false, text });
      return;
    }
    const dm = await input.client.conversations.open({ users: input.userId });
    const channel = dm.channel?.id;
    if (channel !== undefined) {
      await input.client.chat.postEphemeral({ channel, user: input.userId, text });
    }
  };
}

/**
 * Runs the part of a listener that comes after `ack()`, once no other ack waits (after-ack-queue.ts).
 * Slack has its answer already, so a failure here is logged with a reference and told to the
 * person, never thrown back into Bolt. `urgent`: it opens a modal (the trigger id expires in 3 s).
 */
export async function afterAck(
  services: Services,
  context: { interaction: string; userId: string; urgent?: boolean },
  reply: Reply,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await services.afterAck.run(work, { urgent: context.urgent === true });
  } catch (error) {
    const reference = services.usecases.ids.uuid().slice(0, 8);
    services.logger.error({ err: error, reference, ...context }, "slack interaction failed after ack");
    await reply(failureText(reference)).catch((replyError: unknown) => {
      services.logger.warn({ err: replyError, reference }, "could not tell the user about the failure");
    });
  }
}
