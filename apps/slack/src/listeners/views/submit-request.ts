import { type RequestModalMetadata, readRequestForm, type ViewStateValues } from "@keyturn/slack";
import { submitRequest } from "@keyturn/usecases";
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import type { ModalView, WebClient } from "@slack/web-api";
import { stateDigest } from "../../interactions.js";
import { ModalMetadataSchema, ViewSubmissionSchema } from "../../payloads.js";
import { afterAck, type Reply } from "../../reply.js";
import { currentFlows, groupIds, type Services } from "../../services.js";
import { refusalText } from "../../slack-errors.js";

function statusView(title: string, text: string): ModalView {
  return {
    type: "modal",
    title: { type: "plain_text", text: title },
    close: { type: "plain_text", text: "Close" },
    blocks: [{ type: "section", block_id: "status", text: { type: "mrkdwn", text } }],
  };
}

/**
 * A retry of one submission carries the same view id, hash and input; a corrected resubmission
 * after inline errors has the same view id and hash but other input. So all three make the key.
 */
export function submissionKey(view: { id: string; hash: string; state: { values: unknown } }): string {
  return `slack-view:${view.id}:${view.hash}:${stateDigest(view.state.values)}`;
}

/**
 * The modal's submit. Everything that can be checked from the form (duration above the flow's
 * max, a missing or mismatching reason or ticket) goes back as inline errors within Slack's
 * 3 seconds, with no database or Slack call. Then the modal turns into a "sending" note, and the
 * request is submitted after the ack; its outcome replaces the note.
 */
export function submitRequestView(services: Services) {
  return async ({ ack, body, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const parsed = ViewSubmissionSchema.safeParse(body);
    const meta = parsed.success
      ? ModalMetadataSchema.safeParse(safeJson(parsed.data.view.private_metadata))
      : undefined;
    if (!parsed.success || meta === undefined || !meta.success) {
      await ack({
        response_action: "errors",
        errors: { flow: "This form is out of date or damaged; close it and type /access again." },
      });
      return;
    }
    const { user, view } = parsed.data;
    const form = readRequestForm(view.state.values as ViewStateValues, meta.data as RequestModalMetadata);
    if (!form.ok) {
      await ack({ response_action: "errors", errors: form.errors });
      return;
    }
    await ack({
      response_action: "update",
      view: statusView("Request AWS access", ":hourglass_flowing_sand: Sending your request…"),
    });
    const reply = modalReply(client, view.id, user.id);
    await afterAck(services, { interaction: "request_form.submit", userId: user.id }, reply, async () => {
      // The use case judges under the flow's current version; membership is looked up for it.
      const flow = (await currentFlows(services.db)).find((f) => f.name === form.input.flowName);
      const who = await services.identity.resolve(user.id, {
        groups: groupIds(flow?.rules.requesters ?? []),
      });
      if (!who.ok) {
        await reply(refusalText(who));
        return;
      }
      const result = await submitRequest(services.usecases, {
        ...form.input,
        requester: who.principal,
        source: "slack",
        idempotencyKey: submissionKey(view),
      });
      if (!result.ok) {
        await reply(`:no_entry: ${refusalText(result.error)}`);
        return;
      }
      if (!who.pinned) {
        await services.identity.pin(user.id, who.email);
      }
      const status = result.value.status;
      await reply(
        status === "pending"
          ? ":white_check_mark: Requested. The approvers have been asked; you will get a DM when they decide."
          : ":white_check_mark: Approved. Keyturn is granting the access now; you will get a DM with how to use it.",
      );
    });
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Answers in the modal the person is looking at; if they closed it already, in their DM. */
function modalReply(client: WebClient, viewId: string, userId: string): Reply {
  return async (text) => {
    try {
      await client.views.update({ view_id: viewId, view: statusView("Request AWS access", text) });
    } catch {
      const dm = await client.conversations.open({ users: userId });
      if (dm.channel?.id !== undefined) {
        await client.chat.postMessage({ channel: dm.channel.id, text });
      }
    }
  };
}
