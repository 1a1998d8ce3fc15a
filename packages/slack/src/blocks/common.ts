import type { FlowRules, FlowTarget, LinkedTicket, PrincipalSelector, RequestStatus } from "@keyturn/core";
import type { Button, ContextBlock, MrkdwnElement, SectionBlock } from "@slack/web-api";
import { formatDuration } from "../durations.js";
import { code, escapeMrkdwn, plainText, truncate } from "../escape.js";
import type { PersonRef, RequestCard } from "../request-card.js";
import type { RequestActionId } from "./ids.js";

// Small pieces every message is made of. Everything user-provided is escaped here or goes into
// plain_text; mentions are only ever built from ids Keyturn stored, never from text.

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const SLACK_GROUP_ID = /^S[A-Z0-9]{2,}$/;

export function mention(person: PersonRef): string {
  return person.slackUserId !== null && SLACK_USER_ID.test(person.slackUserId)
    ? `<@${person.slackUserId}>`
    : escapeMrkdwn(person.email);
}

/** Slack shows this in the reader's own time zone; the fallback is for clients that cannot. */
export function slackDate(at: Date, format = "{date_short_pretty} {time}"): string {
  const epoch = Math.floor(at.getTime() / 1000);
  const fallback = `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${epoch}^${format}|${fallback}>`;
}

export const STATUS_BADGES: Readonly<Record<RequestStatus, string>> = {
  pending: ":hourglass_flowing_sand: Pending approval",
  approved: ":white_check_mark: Approved, granting access",
  active: ":large_green_circle: Active",
  denied: ":no_entry: Denied",
  cancelled: ":heavy_multiplication_x: Cancelled",
  timed_out: ":hourglass: Timed out (nobody decided in time)",
  expired: ":lock: Expired",
  revoked: ":lock: Revoked",
  failed: ":warning: Failed",
};

export function targetText(target: FlowTarget): string {
  return `${code(target.permissionSetName)} in account ${code(target.accountId)}`;
}

export function flowText(card: Pick<RequestCard, "flow">): string {
  return `${escapeMrkdwn(card.flow.rules.title)} (${code(card.flow.name)} v${card.flow.version})`;
}

function selectorText(selector: PrincipalSelector): string {
  switch (selector.kind) {
    case "anyone":
      return "anyone";
    case "email":
      return escapeMrkdwn(selector.email);
    case "slack_user":
      return SLACK_USER_ID.test(selector.id) ? `<@${selector.id}>` : escapeMrkdwn(selector.id);
    case "slack_group":
      return SLACK_GROUP_ID.test(selector.id) ? `<!subteam^${selector.id}>` : escapeMrkdwn(selector.id);
  }
}

function orList(items: string[]): string {
  if (items.length <= 1) {
    return items.join("");
  }
  return `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** "needs 2 approvals from @group or ann@… · self-approval off · max 8h" */
export function rulesSummary(rules: FlowRules): string {
  const limits = `max ${formatDuration(rules.maxDurationSeconds)}`;
  if (rules.breakGlass) {
    return `Break-glass: activates at once, reviewed afterwards by ${orList(rules.approvers.map(selectorText))} · ${limits}`;
  }
  if (rules.autoApprove) {
    return `Approved automatically · ${limits}`;
  }
  const n = rules.approvalsRequired;
  const approvals = n === 1 ? "1 approval" : `${n} approvals`;
  const self = rules.selfApproval ? "self-approval on" : "self-approval off";
  return `Needs ${approvals} from ${orList(rules.approvers.map(selectorText))} · ${self} · ${limits}`;
}

export function approvals(card: RequestCard) {
  return card.reviews.filter((r) => r.decision === "approve");
}

/** "1 of 2 approvals: @ann" while a threshold is being met. */
export function progressText(card: RequestCard): string {
  const approved = approvals(card);
  const required = card.flow.rules.approvalsRequired;
  const who = approved.length === 0 ? "" : `: ${approved.map((r) => mention(r.reviewer)).join(", ")}`;
  return `${Math.min(approved.length, required)} of ${required} approval${required === 1 ? "" : "s"}${who}`;
}

/** Who decided, and when: the line under every decided request. */
export function decisionText(card: RequestCard): string | null {
  const approvedBy = approvals(card).map((r) => mention(r.reviewer));
  const denial = card.reviews.find((r) => r.decision === "deny");
  const when = (at: Date | null) => (at === null ? "" : ` · ${slackDate(at)}`);
  switch (card.status) {
    case "pending":
      return null;
    case "approved":
    case "active":
    case "expired":
    case "revoked":
    case "failed": {
      const parts: string[] = [];
      if (card.breakGlass) {
        parts.push(`Break-glass: self-activated by ${mention(card.requester)}${when(card.decidedAt)}`);
      } else if (approvedBy.length > 0) {
        parts.push(`Approved by ${approvedBy.join(", ")}${when(card.decidedAt)}`);
      } else if (card.onCall?.outcome === "approved") {
        parts.push(`Approved by Keyturn${when(card.decidedAt)}: ${escapeMrkdwn(card.onCall.note)}`);
      } else if (card.flow.rules.autoApprove) {
        parts.push(`Approved automatically${when(card.decidedAt)}`);
      }
      if (card.status === "revoked" && card.endReason !== null) {
        parts.push(`Ended by Keyturn${when(card.endedAt)}: ${escapeMrkdwn(card.endReason)}`);
      } else if (card.status === "revoked") {
        const by = card.endedBy === null ? "" : ` by ${mention(card.endedBy)}`;
        parts.push(`Revoked${by}${when(card.endedAt)}`);
      }
      if (card.status === "expired") {
        parts.push(`Expired${when(card.endedAt)}`);
      }
      if (card.status === "failed") {
        parts.push(`Failed${when(card.endedAt)}`);
      }
      return parts.join(" · ");
    }
    case "denied":
      return denial === undefined
        ? `Denied${when(card.decidedAt)}`
        : `Denied by ${mention(denial.reviewer)}${when(card.decidedAt)}`;
    case "cancelled": {
      const by = card.endedBy === null ? mention(card.requester) : mention(card.endedBy);
      return `Cancelled by ${by}${when(card.endedAt)}`;
    }
    case "timed_out":
      return `Nobody decided before the request timed out${when(card.endedAt)}`;
  }
}

/**
 * A checked ticket: its key linked to the provider's page, then its title and state as plain user
 * text (escaped). The link is shown only when it is the provider's own https address.
 */
export function linkedTicketText(ticket: LinkedTicket): string {
  const key = escapeMrkdwn(ticket.key);
  const link = /^https?:\/\/[^\s<>|]+$/.test(ticket.url) ? `<${ticket.url}|${key}>` : key;
  return `*Ticket* ${link}: ${escapeMrkdwn(ticket.title)} _(${escapeMrkdwn(ticket.state)})_`;
}

export function mrkdwn(text: string): MrkdwnElement {
  return { type: "mrkdwn", text: truncate(text, 3000) };
}

export function section(text: string, blockId?: string): SectionBlock {
  return { type: "section", text: mrkdwn(text), ...(blockId === undefined ? {} : { block_id: blockId }) };
}

/** A section showing user text verbatim (plain_text is never parsed for mentions or links). */
export function userTextSection(label: string, text: string, blockId?: string): SectionBlock {
  return {
    type: "section",
    text: plainText(`${label}: ${text}`, 3000),
    ...(blockId === undefined ? {} : { block_id: blockId }),
  };
}

export function context(texts: string[], blockId?: string): ContextBlock {
  return {
    type: "context",
    elements: texts.map((text) => mrkdwn(text)),
    ...(blockId === undefined ? {} : { block_id: blockId }),
  };
}

/** Every button carries the request id only: the handler loads the rest, so nothing is trusted. */
export function button(
  actionId: RequestActionId,
  text: string,
  requestId: string,
  style?: "primary" | "danger",
): Button {
  return {
    type: "button",
    action_id: actionId,
    text: { type: "plain_text", text, emoji: true },
    value: requestId,
    ...(style === undefined ? {} : { style }),
  };
}

/** The notification text (and screen-reader text) of a message: our own words only, escaped. */
export function fallbackText(parts: string[]): string {
  return truncate(parts.join(" "), 3000);
}
