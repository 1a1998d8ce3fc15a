import type { RequestStatus } from "@keyturn/core";
import type { ActionsBlock, KnownBlock } from "@slack/web-api";
import { formatDuration } from "../durations.js";
import { escapeMrkdwn } from "../escape.js";
import type { RequestCard } from "../request-card.js";
import type { SlackMessageContent } from "./approval-message.js";
import { type AwsAccessConfig, cliProfile, profileName } from "./cli-profile.js";
import {
  approvals,
  button,
  context,
  decisionText,
  fallbackText,
  flowText,
  linkedTicketText,
  progressText,
  rulesSummary,
  STATUS_BADGES,
  section,
  slackDate,
  targetText,
  userTextSection,
} from "./common.js";
import { ACTION_IDS } from "./ids.js";

/**
 * The requester hears about every step in a DM of its own (a new message notifies; an edit does
 * not). Each step is a "milestone" posted once per request: the SlackMessage row keyed by it is
 * what makes a repeated notification a no-op. Extensions and partial approvals are steps too.
 */
export function requesterMilestone(card: RequestCard): string {
  switch (card.status) {
    case "pending": {
      const approved = approvals(card).length;
      return approved === 0 ? "requester:pending" : `requester:pending:${approved}`;
    }
    case "active":
      return card.extensionCount === 0 ? "requester:active" : `requester:active:${card.extensionCount}`;
    default:
      return `requester:${card.status}`;
  }
}

/** The status a milestone's message shows, for messages that carry buttons (null: none). */
export function milestoneButtonStatus(milestone: string): "pending" | "approved" | "active" | null {
  if (milestone === "requester:pending" || milestone.startsWith("requester:pending:")) {
    return "pending";
  }
  if (milestone === "requester:approved") {
    return "approved";
  }
  if (milestone === "requester:active" || milestone.startsWith("requester:active:")) {
    return "active";
  }
  return null;
}

/** The requester may extend without an approver: the button goes on their own DM. */
export function requesterMayExtend(card: RequestCard): boolean {
  const { extensions } = card.flow.rules;
  return (
    card.status === "active" &&
    !extensions.requiresApproval &&
    extensions.maxCount > card.extensionCount &&
    extensions.maxExtensionSeconds > 0
  );
}

const HEADLINES: Readonly<Record<RequestStatus, string>> = {
  pending: "is waiting for approval",
  approved: "was approved; Keyturn is granting it in AWS now",
  active: "is active",
  denied: "was denied",
  cancelled: "was cancelled",
  timed_out: "timed out: nobody decided in time",
  expired: "has expired; the access is gone",
  revoked: "was revoked; the access is gone",
  failed: "could not be granted",
};

function summary(card: RequestCard): KnownBlock[] {
  const blocks: KnownBlock[] = [
    section(
      `${STATUS_BADGES[card.status]}: your request for ${targetText(card.target)} ` +
        `(${formatDuration(card.durationSeconds)}) ${HEADLINES[card.status]}.`,
      "requester.summary",
    ),
    userTextSection("Reason", card.reason === "" ? "(none given)" : card.reason, "requester.reason"),
  ];
  if (card.linkedTicket !== null) {
    blocks.push(section(linkedTicketText(card.linkedTicket), "requester.ticket"));
  }
  if (card.onCall !== null) {
    blocks.push(context([`:pager: ${escapeMrkdwn(card.onCall.note)}`], "requester.on_call"));
  }
  if (card.status === "revoked" && card.endReason !== null) {
    blocks.push(context([`Keyturn ${escapeMrkdwn(card.endReason)}.`], "requester.ended"));
  }
  return blocks;
}

function activeBlocks(card: RequestCard, aws: AwsAccessConfig, current: boolean): KnownBlock[] {
  const until = card.expiresAt === null ? "" : ` until ${slackDate(card.expiresAt)}`;
  const profile = profileName(card.target);
  const blocks: KnownBlock[] = [
    section(
      `${STATUS_BADGES.active}: you have ${targetText(card.target)}${until}` +
        (card.extensionCount > 0 ? ` (extended ${card.extensionCount}×)` : "") +
        ".",
      "requester.summary",
    ),
    section(
      `*In the browser:* open the <${aws.portalUrl}|AWS access portal>, pick account ` +
        `\`${escapeMrkdwn(card.target.accountId)}\` and choose *${escapeMrkdwn(card.target.permissionSetName)}*.`,
      "requester.portal",
    ),
    section(
      `*With the AWS CLI:* add this to \`~/.aws/config\` once:\n\`\`\`${escapeMrkdwn(cliProfile(card.target, aws))}\`\`\`\n` +
        `then \`aws sso login --profile ${escapeMrkdwn(profile)}\` and use \`--profile ${escapeMrkdwn(profile)}\` ` +
        `(e.g. \`aws sts get-caller-identity --profile ${escapeMrkdwn(profile)}\`).`,
      "requester.cli",
    ),
  ];
  if (current) {
    const elements = [button(ACTION_IDS.revoke, "Revoke now", card.id, "danger")];
    const extra = formatDuration(card.flow.rules.extensions.maxExtensionSeconds);
    if (requesterMayExtend(card)) {
      elements.unshift(button(ACTION_IDS.extend, `Extend +${extra}`, card.id));
    }
    blocks.push({ type: "actions", block_id: "requester.actions", elements });
    const { extensions } = card.flow.rules;
    if (extensions.requiresApproval && extensions.maxCount > card.extensionCount) {
      blocks.push(
        context(
          [`Need longer? An approver can extend it by up to ${extra} from the approval channel.`],
          "requester.extend_hint",
        ),
      );
    }
  }
  blocks.push(
    context(
      ["Done early? Revoke it: access you no longer need is access an attacker could use."],
      "requester.hint",
    ),
  );
  return blocks;
}

function actions(card: RequestCard): ActionsBlock | null {
  if (card.status === "pending") {
    return {
      type: "actions",
      block_id: "requester.actions",
      elements: [button(ACTION_IDS.cancel, "Cancel request", card.id)],
    };
  }
  if (card.status === "approved") {
    return {
      type: "actions",
      block_id: "requester.actions",
      elements: [button(ACTION_IDS.revoke, "Revoke", card.id, "danger")],
    };
  }
  return null;
}

/**
 * A DM to the requester about the request as it stands. `current: false` renders an earlier
 * milestone's message without its buttons, once the request has moved past it.
 */
export function requesterMessage(
  card: RequestCard,
  options: { aws: AwsAccessConfig; current: boolean; status?: RequestStatus },
): SlackMessageContent {
  const shown: RequestCard = options.status === undefined ? card : { ...card, status: options.status };
  const blocks =
    shown.status === "active" ? activeBlocks(shown, options.aws, options.current) : summary(shown);
  if (shown.status !== "active") {
    const details = [flowText(shown)];
    if (shown.status === "pending") {
      details.push(rulesSummary(shown.flow.rules), progressText(shown));
    }
    blocks.push(context(details, "requester.details"));
    const decided = decisionText(shown);
    if (decided !== null) {
      blocks.push(context([decided], "requester.outcome"));
    }
    if (shown.status === "failed" && shown.failureReason !== null) {
      blocks.push(context([`AWS said: ${escapeMrkdwn(shown.failureReason)}`], "requester.failure"));
    }
    const buttons = options.current ? actions(shown) : null;
    if (buttons !== null) {
      blocks.push(buttons);
    }
  }
  if (!options.current) {
    blocks.push(
      context(["_This step is over; the newest message below is the current one._"], "requester.superseded"),
    );
  }
  return {
    text: fallbackText([
      `Your access request for ${escapeMrkdwn(shown.target.permissionSetName)} in ${escapeMrkdwn(shown.target.accountId)}`,
      `${HEADLINES[shown.status]}.`,
      shown.status === "active" && shown.expiresAt !== null ? `Until ${slackDate(shown.expiresAt)}.` : "",
    ]).trim(),
    blocks,
  };
}
