import type { FlowRules, FlowTarget, LinkedTicket, RequestStatus, ReviewDecision } from "@keyturn/core";
import type { SlackPersonRow, SlackRequestRow } from "@keyturn/db";

/** Someone a message names: by Slack mention where their Slack id is known, else by email. */
export type PersonRef = { email: string; slackUserId: string | null };

export type ReviewCard = {
  reviewer: PersonRef;
  decision: ReviewDecision;
  override: boolean;
  comment: string | null;
  at: Date;
};

/**
 * Everything the Slack builders show about a request, as plain data. Rendering is a pure function
 * of it, so a repeated notification renders (and updates a message to) the same content.
 */
export type RequestCard = {
  id: string;
  flow: { name: string; version: number; rules: FlowRules };
  requester: PersonRef;
  target: FlowTarget;
  reason: string;
  ticket: string | null;
  /** The ticket the flow checked (title and link for approvers); its closing ends the access. */
  linkedTicket: LinkedTicket | null;
  /** What the on-call check concluded, said to approvers and the requester. */
  onCall: { outcome: string; note: string } | null;
  /** Why Keyturn ended the access early (a closed ticket). */
  endReason: string | null;
  durationSeconds: number;
  status: RequestStatus;
  breakGlass: boolean;
  reviews: ReviewCard[];
  extensionCount: number;
  createdAt: Date;
  decidedAt: Date | null;
  activatedAt: Date | null;
  expiresAt: Date | null;
  endedAt: Date | null;
  failureReason: string | null;
  endedBy: PersonRef | null;
  /**
   * Filed through the API on the requester's behalf (source integration): the token that did it,
   * which approvers must see, since the requester did not ask in person.
   */
  filedBy: { tokenId: string; tokenName: string | null } | null;
};

const personRef = (row: SlackPersonRow): PersonRef => ({ email: row.email, slackUserId: row.slackUserId });

export function toRequestCard(row: SlackRequestRow): RequestCard {
  return {
    id: row.id,
    flow: { name: row.flowName, version: row.flowVersion, rules: row.flow.rules as unknown as FlowRules },
    requester: personRef(row.requester),
    target: { accountId: row.accountId, permissionSetName: row.permissionSetName },
    reason: row.reason,
    ticket: row.ticket,
    linkedTicket:
      row.ticketProvider === null || row.ticket === null
        ? null
        : {
            provider: row.ticketProvider === "linear" ? "linear" : "jira",
            key: row.ticket,
            title: row.ticketTitle ?? "",
            url: row.ticketUrl ?? "",
            state: row.ticketState ?? "",
          },
    onCall: row.onCallOutcome === null ? null : { outcome: row.onCallOutcome, note: row.onCallNote ?? "" },
    endReason: row.endReason,
    durationSeconds: row.durationSeconds,
    status: row.status,
    breakGlass: row.breakGlass,
    reviews: row.reviews.map((review) => ({
      reviewer: personRef(review.reviewer),
      decision: review.decision,
      override: review.override,
      comment: review.comment,
      at: review.createdAt,
    })),
    extensionCount: row.extensionCount,
    createdAt: row.createdAt,
    decidedAt: row.decidedAt,
    activatedAt: row.activatedAt,
    expiresAt: row.expiresAt,
    endedAt: row.endedAt,
    failureReason: row.failureReason,
    endedBy: row.endedBy === null ? null : personRef(row.endedBy),
    filedBy: row.source === "integration" ? (row.filedBy ?? { tokenId: "unknown", tokenName: null }) : null,
  };
}
