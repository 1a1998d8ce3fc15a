import { mayRequest } from "@keyturn/core";
import { REQUEST_MODAL, requestModal } from "@keyturn/slack";
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { ChooseFlowSchema } from "../../payloads.js";
import { afterAck, ephemeralReply } from "../../reply.js";
import { actorOf, currentFlows, groupIds, type Services } from "../../services.js";

function typed(
  values: Record<string, Record<string, unknown>>,
  block: string,
  action: string,
): string | undefined {
  const state = values[block]?.[action] as { value?: unknown } | undefined;
  return typeof state?.value === "string" && state.value !== "" ? state.value : undefined;
}

/**
 * Another flow picked in the modal: rebuild it for that flow (targets, durations, reason rules),
 * keeping what was typed. The view's hash makes a stale rebuild lose against a newer one.
 */
export function chooseFlowAction(services: Services) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => {
    await ack();
    const parsed = ChooseFlowSchema.safeParse(body);
    if (!parsed.success) {
      services.logger.warn({ issues: parsed.error.issues.length }, "malformed flow choice");
      return;
    }
    const { user, actions, view } = parsed.data;
    const reply = ephemeralReply({ client, userId: user.id, hasResponseUrl: false });
    await afterAck(services, { interaction: "choose_flow", userId: user.id }, reply, async () => {
      const flows = await currentFlows(services.db);
      const who = await services.identity.resolve(user.id, {
        groups: flows.flatMap((f) => groupIds(f.rules.requesters)),
      });
      if (!who.ok) {
        return;
      }
      const requestable = flows.filter((f) => mayRequest(f.rules, actorOf(who.principal)));
      const selected = requestable.find((f) => f.name === actions[0]?.selected_option.value);
      if (selected === undefined) {
        return;
      }
      const { blocks, actions: ids } = REQUEST_MODAL;
      const reason = typed(view.state.values, blocks.reason, ids.reason);
      const ticket = typed(view.state.values, blocks.ticket, ids.ticket);
      await client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: requestModal({
          flows: requestable,
          selected,
          prefill: {
            ...(reason === undefined ? {} : { reason }),
            ...(ticket === undefined ? {} : { ticket }),
          },
        }),
      });
    });
  };
}
