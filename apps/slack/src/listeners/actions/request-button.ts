import type { AccessRequest } from "@keyturn/core";
import { getSlackRequestRow, toRequestCard } from "@keyturn/db";
import type { RequestCard } from "@keyturn/slack";
import type { Principal, Result } from "@keyturn/usecases";
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { publishHome } from "../../home.js";
import { RequestButtonSchema } from "../../payloads.js";
import { afterAck, ephemeralReply } from "../../reply.js";
import type { Services } from "../../services.js";
import { refusalText } from "../../slack-errors.js";

export type RequestButtonSpec = {
  interaction: string;
  /** The Slack groups whose membership decides whether this person may do this to `card`. */
  groups(card: RequestCard): string[];
  /** The one use case the click stands for. */
  run(input: { requestId: string; principal: Principal; card: RequestCard }): Promise<Result<AccessRequest>>;
  /** What the clicker is told when it worked (everyone else learns from the updated messages). */
  done(after: AccessRequest, card: RequestCard): string;
};

/**
 * Every button on a request works the same way: acknowledge at once, read the request id from the
 * button (and nothing else), find out who clicked, run one use case. A refusal is told to the
 * clicker alone and changes nothing. A success is confirmed to the clicker alone (or shows in
 * their Home tab if that is where they clicked); everyone else sees it when the notifier rewrites
 * the request's messages.
 */
export function requestButton(services: Services, spec: RequestButtonSpec) {
  return async ({
    ack,
    body,
    client,
    respond,
  }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => {
    await ack();
    const parsed = RequestButtonSchema.safeParse(body);
    if (!parsed.success) {
      services.logger.warn(
        { interaction: spec.interaction, issues: parsed.error.issues.length },
        "malformed click",
      );
      return;
    }
    const click = parsed.data;
    const userId = click.user.id;
    const requestId = click.actions[0]?.value ?? "";
    const reply = ephemeralReply({
      client,
      userId,
      respond,
      hasResponseUrl: click.response_url !== undefined,
    });
    await afterAck(services, { interaction: spec.interaction, userId }, reply, async () => {
      const row = await getSlackRequestRow(services.db, requestId);
      if (row === null) {
        await reply(refusalText({ code: "REQUEST_NOT_FOUND", message: `no request ${requestId}` }));
        return;
      }
      const card = toRequestCard(row);
      const who = await services.identity.resolve(userId, { groups: spec.groups(card) });
      if (!who.ok) {
        await reply(refusalText(who));
        return;
      }
      const result = await spec.run({ requestId, principal: who.principal, card });
      if (!result.ok) {
        const now =
          result.error.code === "ALREADY_DECIDED" ? await getSlackRequestRow(services.db, requestId) : row;
        await reply(refusalText(result.error, toRequestCard(now ?? row)));
        return;
      }
      if (!who.pinned) {
        await services.identity.pin(userId, who.email);
      }
      if (click.container.type === "view" && click.view?.type === "home") {
        await publishHome(services, client, userId);
        return;
      }
      await reply(spec.done(result.value, card));
    });
  };
}
