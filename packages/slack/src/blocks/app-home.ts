import type { Button, HomeView, KnownBlock } from "@slack/web-api";
import { formatDuration } from "../durations.js";
import { plainText } from "../escape.js";
import type { RequestCard } from "../request-card.js";
import {
  button,
  context,
  mention,
  progressText,
  STATUS_BADGES,
  section,
  slackDate,
  targetText,
} from "./common.js";
import { ACTION_IDS } from "./ids.js";
import { requesterMayExtend } from "./requester-message.js";

export type AppHomeInput = {
  now: Date;
  /** My approved/active requests. */
  active: RequestCard[];
  /** My pending requests. */
  pending: RequestCard[];
  /** Pending requests I may review and have not reviewed yet. */
  toReview: RequestCard[];
  /** Whether any flow lets me request (otherwise the button would only lead to a refusal). */
  canRequest: boolean;
};

// Slack allows 100 blocks in a Home tab; each request takes up to three.
const MAX_PER_LIST = 10;

function timeLeft(card: RequestCard, now: Date): string {
  if (card.status === "approved" || card.expiresAt === null) {
    return "being granted";
  }
  const left = Math.max(0, card.expiresAt.getTime() - now.getTime()) / 1000;
  return `${formatDuration(left)} left, until ${slackDate(card.expiresAt)}`;
}

function heading(text: string, blockId: string): KnownBlock {
  return { type: "header", block_id: blockId, text: plainText(text, 150) };
}

function empty(text: string, blockId: string): KnownBlock {
  return context([`_${text}_`], blockId);
}

function activeItem(card: RequestCard, now: Date): KnownBlock[] {
  const elements: Button[] = [button(ACTION_IDS.revoke, "Revoke", card.id, "danger")];
  if (requesterMayExtend(card)) {
    elements.unshift(
      button(
        ACTION_IDS.extend,
        `Extend +${formatDuration(card.flow.rules.extensions.maxExtensionSeconds)}`,
        card.id,
      ),
    );
  }
  return [
    section(
      `${STATUS_BADGES[card.status]} · ${targetText(card.target)} · ${timeLeft(card, now)}`,
      `active.${card.id}`,
    ),
    { type: "actions", block_id: `active.${card.id}.actions`, elements },
  ];
}

function pendingItem(card: RequestCard): KnownBlock[] {
  return [
    {
      type: "section",
      block_id: `pending.${card.id}`,
      text: {
        type: "mrkdwn",
        text: `${targetText(card.target)} for ${formatDuration(card.durationSeconds)} · ${progressText(card)} · asked ${slackDate(card.createdAt)}`,
      },
      accessory: button(ACTION_IDS.cancel, "Cancel", card.id),
    },
  ];
}

function reviewItem(card: RequestCard): KnownBlock[] {
  return [
    section(
      `${mention(card.requester)} asks for ${targetText(card.target)} for ${formatDuration(card.durationSeconds)} · ${progressText(card)}`,
      `review.${card.id}`,
    ),
    {
      type: "context",
      block_id: `review.${card.id}.reason`,
      elements: [plainText(`Reason: ${card.reason === "" ? "(none given)" : card.reason}`, 2000)],
    },
    {
      type: "actions",
      block_id: `review.${card.id}.actions`,
      elements: [
        button(ACTION_IDS.approve, "Approve", card.id, "primary"),
        button(ACTION_IDS.deny, "Deny", card.id, "danger"),
      ],
    },
  ];
}

/** The Home tab: what I hold, what I asked for, and what waits on me. */
export function appHomeView(input: AppHomeInput): HomeView {
  const blocks: KnownBlock[] = [
    section("*Keyturn*: just-in-time AWS access. Type `/access` anywhere, or:", "home.intro"),
  ];
  if (input.canRequest) {
    blocks.push({
      type: "actions",
      block_id: "home.request",
      elements: [
        {
          type: "button",
          action_id: ACTION_IDS.openRequestModal,
          text: { type: "plain_text", text: "Request access", emoji: true },
          style: "primary",
          value: "home",
        },
      ],
    });
  }
  blocks.push(heading("Your access", "home.active"));
  const active = input.active.slice(0, MAX_PER_LIST);
  blocks.push(...(active.length === 0 ? [empty("No active access.", "home.active.empty")] : []));
  for (const card of active) {
    blocks.push(...activeItem(card, input.now));
  }
  blocks.push(heading("Your pending requests", "home.pending"));
  const pending = input.pending.slice(0, MAX_PER_LIST);
  blocks.push(...(pending.length === 0 ? [empty("Nothing pending.", "home.pending.empty")] : []));
  for (const card of pending) {
    blocks.push(...pendingItem(card));
  }
  if (input.toReview.length > 0) {
    blocks.push(heading("Waiting for your review", "home.review"));
    for (const card of input.toReview.slice(0, MAX_PER_LIST)) {
      blocks.push(...reviewItem(card));
    }
  }
  return { type: "home", blocks };
}
