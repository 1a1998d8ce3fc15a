import type { KnownBlock } from "@slack/web-api";
import { formatDuration } from "../durations.js";
import { escapeMrkdwn, plainText } from "../escape.js";
import type { RequestCard } from "../request-card.js";
import type { SlackMessageContent } from "./approval-message.js";
import {
  button,
  context,
  decisionText,
  fallbackText,
  mention,
  rulesSummary,
  STATUS_BADGES,
  section,
  targetText,
  userTextSection,
} from "./common.js";
import { ACTION_IDS } from "./ids.js";

/**
 * Break-glass access skips approval, so it must not skip attention: a loud alert (an @here in the
 * notification) that names who took what and asks the approvers to review it now.
 */
export function breakGlassAlert(card: RequestCard): SlackMessageContent {
  const live = card.status === "approved" || card.status === "active";
  const blocks: KnownBlock[] = [
    { type: "header", block_id: "alert.header", text: plainText("🚨 Break-glass access used", 150) },
    section(
      `<!here> ${mention(card.requester)} used break-glass access: ${targetText(card.target)} ` +
        `for ${formatDuration(card.durationSeconds)}. It is active without approval.\n` +
        "*Approvers: please review it now.* Revoke it if it is not justified.",
      "alert.summary",
    ),
    userTextSection("Reason", card.reason === "" ? "(none given)" : card.reason, "alert.reason"),
  ];
  if (card.ticket !== null) {
    blocks.push(userTextSection("Ticket", card.ticket, "alert.ticket"));
  }
  if (live) {
    blocks.push({
      type: "actions",
      block_id: "alert.actions",
      elements: [button(ACTION_IDS.revoke, "Revoke", card.id, "danger")],
    });
  }
  const outcome = [`*Status:* ${STATUS_BADGES[card.status]}`, rulesSummary(card.flow.rules)];
  const decided = decisionText(card);
  if (decided !== null) {
    outcome.push(decided);
  }
  blocks.push(context(outcome, "alert.status"));
  return {
    text: fallbackText([
      `<!here> :rotating_light: Break-glass: ${mention(card.requester)} took`,
      `${escapeMrkdwn(card.target.permissionSetName)} in ${escapeMrkdwn(card.target.accountId)}.`,
      "Please review.",
    ]),
    blocks,
  };
}
