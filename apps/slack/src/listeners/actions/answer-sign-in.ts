import { getCliSignIn } from "@keyturn/db";
import { signInMessage } from "@keyturn/slack";
import { answerCliSignIn } from "@keyturn/usecases";
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { SignInButtonSchema } from "../../payloads.js";
import { afterAck, ephemeralReply } from "../../reply.js";
import type { Services } from "../../services.js";
import { refusalText } from "../../slack-errors.js";

/**
 * Approve / Reject on a `keyturn login` DM. Slack tells who clicked; the use case checks that it is
 * the person the sign-in is for. The answer replaces the DM's buttons; a refusal is told to the
 * clicker alone and changes nothing.
 */
export function answerSignInAction(services: Services, decision: "approve" | "reject") {
  const interaction = `signin.${decision}`;
  return async ({
    ack,
    body,
    client,
    respond,
  }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => {
    await ack();
    const parsed = SignInButtonSchema.safeParse(body);
    if (!parsed.success) {
      services.logger.warn({ interaction, issues: parsed.error.issues.length }, "malformed click");
      return;
    }
    const click = parsed.data;
    const userId = click.user.id;
    const signInId = click.actions[0]?.value ?? "";
    const hasResponseUrl = click.response_url !== undefined;
    const reply = ephemeralReply({ client, userId, respond, hasResponseUrl });
    await afterAck(services, { interaction, userId }, reply, async () => {
      const who = await services.identity.resolve(userId);
      if (!who.ok) {
        await reply(refusalText(who));
        return;
      }
      const result = await answerCliSignIn(services.usecases, {
        signInId,
        decision,
        by: { slackUserId: userId, email: who.email },
      });
      if (!result.ok) {
        if (result.error.code === "SIGN_IN_EXPIRED" && hasResponseUrl) {
          // Its buttons can do nothing any more: say so where they were.
          const signIn = await getCliSignIn(services.db, signInId);
          if (signIn !== null) {
            const content = signInMessage({ ...signIn, status: "expired" });
            await respond({ replace_original: true, text: content.text, blocks: content.blocks });
            return;
          }
        }
        await reply(refusalText(result.error));
        return;
      }
      if (!who.pinned) {
        await services.identity.pin(userId, who.email);
      }
      const content = signInMessage(result.value);
      if (hasResponseUrl) {
        await respond({ replace_original: true, text: content.text, blocks: content.blocks });
      } else {
        await reply(content.text);
      }
    });
  };
}
