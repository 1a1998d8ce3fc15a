import type { ActionsBlock, KnownBlock } from "@slack/web-api";
import { formatDuration } from "../durations.js";
import { code, escapeMrkdwn, plainText } from "../escape.js";
import type { RequestCard } from "../request-card.js";
import {
  button,
  context,
  decisionText,
  fallbackText,
  flowText,
  linkedTicketText,
  mention,
  mrkdwn,
  progressText,
  rulesSummary,
  STATUS_BADGES,
  section,
  slackDate,
  targetText,
  userTextSection,
} from "./common.js";
import { ACTION_IDS } from "./ids.js";

export type SlackMessageContent = { text: string; blocks: KnownBlock[] };

/** Extend from the approval channel: only where the flow says extensions need an approver. */
export function approverMayExtend(card: RequestCard): boolean {
  const { extensions } = card.flow.rules;
  return (
    card.status === "active" &&
    extensions.requiresApproval &&
    extensions.maxCount > card.extensionCount &&
    extensions.maxExtensionSeconds > 0
  );
}

function actions(card: RequestCard): ActionsBlock | null {
  if (card.status === "pending") {
    return {
      type: "actions",
      block_id: "request.actions",
      elements: [
        button(ACTION_IDS.approve, "Approve", card.id, "primary"),
        button(ACTION_IDS.deny, "Deny", card.id, "danger"),
      ],
    };
  }
  if (card.status === "approved" || card.status === "active") {
    const elements = [button(ACTION_IDS.revoke, "Revoke", card.id, "danger")];
    if (approverMayExtend(card)) {
      const extra = formatDuration(card.flow.rules.extensions.maxExtensionSeconds);
      elements.unshift(button(ACTION_IDS.extend, `Extend +${extra}`, card.id));
    }
    return { type: "actions", block_id: "request.actions", elements };
  }
  return null;
}

/** Who asked: the requester, and for a request filed on their behalf, which token filed it. */
function requesterText(card: RequestCard): string {
  if (card.filedBy === null) {
    return mention(card.requester);
  }
  const name = card.filedBy.tokenName === null ? "" : ` ${code(card.filedBy.tokenName)}`;
  return `${mention(card.requester)}\n_filed on their behalf by API token${name} (id ${code(card.filedBy.tokenId)})_`;
}

function durationText(card: RequestCard): string {
  const duration = formatDuration(card.durationSeconds);
  if (card.status === "active" && card.expiresAt !== null) {
    return `${duration}, until ${slackDate(card.expiresAt)}`;
  }
  return duration;
}

/**
 * The message in the flow's approval channel: what is asked, under which rules, where it stands,
 * and the buttons that still make sense. Updated in place on every change.
 */
export function approvalMessage(card: RequestCard): SlackMessageContent {
  const title = card.breakGlass ? ":rotating_light: Break-glass access" : ":key: Access request";
  const blocks: KnownBlock[] = [
    {
      type: "header",
      block_id: "request.header",
      text: plainText(
        `${card.breakGlass ? "🚨 Break-glass" : "Access request"}: ${card.target.permissionSetName}`,
        150,
      ),
    },
    {
      type: "section",
      block_id: "request.summary",
      fields: [
        mrkdwn(`*Requester*\n${requesterText(card)}`),
        mrkdwn(`*Target*\n${targetText(card.target)}`),
        mrkdwn(`*Duration*\n${durationText(card)}`),
        mrkdwn(`*Flow*\n${flowText(card)}`),
        mrkdwn(`*Status*\n${STATUS_BADGES[card.status]}`),
      ],
    },
    userTextSection("Reason", card.reason === "" ? "(none given)" : card.reason, "request.reason"),
  ];
  if (card.linkedTicket !== null) {
    blocks.push(section(linkedTicketText(card.linkedTicket), "request.ticket"));
  } else if (card.ticket !== null) {
    blocks.push(userTextSection("Ticket", card.ticket, "request.ticket"));
  }
  if (card.status === "pending" && card.onCall !== null && card.onCall.outcome !== "approved") {
    // Why Keyturn did not approve it itself: approvers see that the on-call check ran.
    blocks.push(context([`:pager: ${escapeMrkdwn(card.onCall.note)}`], "request.on_call"));
  }
  const rules = [rulesSummary(card.flow.rules)];
  if (!card.breakGlass && !card.flow.rules.autoApprove) {
    rules.push(progressText(card));
  }
  blocks.push(context(rules, "request.rules"));
  const buttons = actions(card);
  if (buttons !== null) {
    blocks.push(buttons);
  }
  const decided = decisionText(card);
  const outcome: string[] = decided === null ? [] : [decided];
  if (card.status === "failed" && card.failureReason !== null) {
    outcome.push(`AWS said: ${escapeMrkdwn(card.failureReason)}`);
  }
  if (outcome.length > 0) {
    blocks.push(context(outcome, "request.outcome"));
  }
  return {
    text: fallbackText([
      `${title} from ${mention(card.requester)}${card.filedBy === null ? "" : " (filed by an integration)"}:`,
      `${escapeMrkdwn(card.target.permissionSetName)} in ${escapeMrkdwn(card.target.accountId)}`,
      `for ${formatDuration(card.durationSeconds)}.`,
      `${STATUS_BADGES[card.status]}.`,
    ]),
    blocks,
  };
}
