import { assertNever, type RequestStatus } from "@keyturn/core";
import {
  escapeMrkdwn,
  mention,
  type RequestCard,
  type SlackIdentityRefusalCode,
  slackDate,
} from "@keyturn/slack";
import type { UseCaseError, UseCaseErrorCode } from "@keyturn/usecases";

// The one place where a refusal becomes words for a person in Slack. Every code a use case or the
// identity lookup can answer has a sentence; the use case's own message fills in specifics.

export type SlackRefusal = { code: UseCaseErrorCode | SlackIdentityRefusalCode; message: string };

function decidedBy(card: RequestCard): string {
  const approvers = card.reviews.filter((r) => r.decision === "approve").map((r) => mention(r.reviewer));
  const when = card.decidedAt === null ? "" : ` (${slackDate(card.decidedAt)})`;
  const status: RequestStatus = card.status;
  switch (status) {
    case "approved":
    case "active":
    case "expired":
    case "revoked":
    case "failed": {
      const who = card.breakGlass
        ? `${mention(card.requester)} (break-glass)`
        : approvers.length > 0
          ? approvers.join(", ")
          : "Keyturn (auto-approved)";
      const since =
        status === "approved" || status === "active" ? "" : ` and is now ${status.replace("_", " ")}`;
      return `This request was already approved by ${who}${when}${since}.`;
    }
    case "denied": {
      const denial = card.reviews.find((r) => r.decision === "deny");
      return `This request was already denied${denial === undefined ? "" : ` by ${mention(denial.reviewer)}`}${when}.`;
    }
    case "cancelled":
      return `This request was already cancelled${card.endedBy === null ? "" : ` by ${mention(card.endedBy)}`}.`;
    case "timed_out":
      return "This request timed out before anyone decided; ask the requester to request again.";
    case "pending":
      return "This request is still pending.";
  }
}

/** Text for an ephemeral reply or a modal. `card`: the request as it is now, where there is one. */
export function refusalText(refusal: SlackRefusal | UseCaseError, card?: RequestCard): string {
  const detail = escapeMrkdwn(refusal.message);
  const code = refusal.code;
  switch (code) {
    case "ALREADY_DECIDED":
      return card === undefined ? `This request was already decided: ${detail}.` : decidedBy(card);
    case "NOT_AN_APPROVER":
      return `You are not an approver of this request's flow, so your click did not count. ${detail}.`;
    case "SELF_APPROVAL":
      return "You cannot approve your own request: another approver has to.";
    case "ALREADY_REVIEWED":
      return "You have already reviewed this request; it needs another approver now.";
    case "NOT_ALLOWED":
      return `You may not do that: ${detail}.`;
    case "INVALID_TRANSITION":
      return `That no longer applies to this request: ${detail}.`;
    case "REQUEST_NOT_FOUND":
      return "Keyturn has no such request (any more).";
    case "REQUEST_EXISTS":
    case "IDEMPOTENCY_KEY_REUSED":
      return "This request already exists.";
    case "NOT_A_REQUESTER":
      return `You may not request access through this flow. ${detail}. Type \`/access\` to see what you may request.`;
    case "TARGET_REQUIRED":
    case "UNKNOWN_TARGET":
      return `Choose one of the flow's accounts and permission sets: ${detail}.`;
    case "DURATION_OUT_OF_RANGE":
      return `That duration is not allowed: ${detail}.`;
    case "REASON_REQUIRED":
    case "REASON_MISMATCH":
    case "TICKET_REQUIRED":
    case "TICKET_MISMATCH":
      return `${detail}.`;
    case "TICKET_REJECTED":
    case "TICKET_UNCHECKED":
      return `The ticket was not accepted: ${detail}`;
    case "ALREADY_CHECKED":
      return `Already done: ${detail}.`;
    case "EXTENSION_NOT_ALLOWED":
      return "This flow does not allow extensions: request access again when it ends.";
    case "EXTENSION_LIMIT":
      return `No more extensions: ${detail}. Request access again when it ends.`;
    case "EXTENSION_TOO_LONG":
      return `That extension is too long: ${detail}.`;
    case "NOT_DUE":
      return `Not yet: ${detail}.`;
    case "FLOW_NOT_FOUND":
    case "FLOW_ARCHIVED":
    case "INVALID_FLOW":
      return `That flow cannot be used: ${detail}. Type \`/access\` to see what you may request.`;
    case "IDENTITY_NOT_FOUND":
    case "IDENTITY_AMBIGUOUS":
    case "SLACK_IDENTITY_CONFLICT":
      return `Keyturn cannot tell who you are in AWS: ${detail} Ask a Keyturn admin to fix your identity.`;
    case "SLACK_USER_NOT_FOUND":
    case "SLACK_USER_IS_BOT":
    case "SLACK_USER_DEACTIVATED":
    case "SLACK_USER_NO_EMAIL":
      return detail;
    case "TOKEN_NOT_FOUND":
    case "TOKEN_REVOKED":
    case "SCOPE_NOT_HELD":
    case "FOREIGN_TOKEN_OWNER":
    case "EXPIRY_BEYOND_MINTER":
    case "TOKEN_BEYOND_REACH":
      return `Refused: ${detail}.`;
    case "SIGN_IN_NOT_FOUND":
    case "SIGN_IN_EXPIRED":
    case "SIGN_IN_REJECTED":
    case "SIGN_IN_REDEEMED":
    case "SIGN_IN_DECIDED":
    case "SIGN_IN_UNDELIVERABLE":
      return `This sign-in can no longer be answered: ${detail}.`;
    case "SIGN_IN_NOT_YOURS":
      return "This sign-in is someone else's: only the person signing in can answer it.";
    default:
      return assertNever(code);
  }
}

/** For failures that are not refusals (Slack or the database down): no internals, a reference. */
export function failureText(reference: string): string {
  return `Something went wrong on Keyturn's side and nothing was changed; please try again in a minute. (ref ${reference})`;
}
