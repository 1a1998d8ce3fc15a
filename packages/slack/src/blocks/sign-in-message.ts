import type { ActionsBlock } from "@slack/web-api";
import { code, escapeMrkdwn } from "../escape.js";
import type { SlackMessageContent } from "./approval-message.js";
import { button, context, fallbackText, section, slackDate } from "./common.js";
import { ACTION_IDS } from "./ids.js";

export type SignInCard = {
  id: string;
  code: string;
  host: string;
  expiresAt: Date;
  status: "pending" | "approved" | "rejected" | "redeemed" | "undeliverable" | "expired";
};

const ANSWERED: Record<Exclude<SignInCard["status"], "pending">, string> = {
  approved: ":white_check_mark: You approved this sign-in; the CLI is signed in as you.",
  redeemed: ":white_check_mark: You approved this sign-in; the CLI is signed in as you.",
  rejected: ":no_entry: You rejected this sign-in; nothing was signed in.",
  expired: ":hourglass: This sign-in expired unanswered; nothing was signed in.",
  undeliverable: ":warning: This sign-in was abandoned; nothing was signed in.",
};

/**
 * The DM asking a person whether a `keyturn login` is theirs. The code is the one their terminal
 * shows: a sign-in they did not start (or whose code differs) is one to reject.
 */
export function signInMessage(card: SignInCard): SlackMessageContent {
  const question = `Sign in to the Keyturn CLI on ${code(card.host)}? Code ${code(card.code)}`;
  const blocks: SlackMessageContent["blocks"] = [section(`*${question}*`, "signin")];
  if (card.status === "pending") {
    blocks.push(
      context([
        `Approve only if you just ran ${code("keyturn login")} and your terminal shows ${code(card.code)}. ` +
          `The CLI gets a token that acts as you on your own requests for 12 hours. ` +
          `This asks until ${slackDate(card.expiresAt, "{time}")}.`,
      ]),
    );
    const actions: ActionsBlock = {
      type: "actions",
      block_id: "signin_actions",
      elements: [
        button(ACTION_IDS.approveSignIn, "Approve", card.id, "primary"),
        button(ACTION_IDS.rejectSignIn, "Reject", card.id, "danger"),
      ],
    };
    blocks.push(actions);
  } else {
    blocks.push(section(ANSWERED[card.status], "signin_answer"));
  }
  return {
    text: fallbackText([`Sign in to the Keyturn CLI on ${escapeMrkdwn(card.host)}? Code ${card.code}`]),
    blocks,
  };
}
