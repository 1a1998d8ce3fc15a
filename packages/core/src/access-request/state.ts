import type { FlowRef, FlowTarget } from "../flow/flow-rules.js";
import type { OnCallApprovalReason } from "../integrations/on-call.js";
import type { TicketProviderName } from "../integrations/ticket.js";

export const REQUEST_STATUSES = [
  "pending",
  "approved",
  "active",
  "denied",
  "cancelled",
  "timed_out",
  "expired",
  "revoked",
  "failed",
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RequestStatus[] = [
  "denied",
  "cancelled",
  "timed_out",
  "expired",
  "revoked",
  "failed",
];

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export type ReviewDecision = "approve" | "deny";

export type Review = {
  reviewerId: string;
  decision: ReviewDecision;
  comment?: string;
  at: Date;
  /** An admin override of the flow's rules, not a review under them. */
  override: boolean;
};

/**
 * Where a request came from: Slack or the API, filed by the requester themselves, or `integration`:
 * filed through the API by a token on the requester's behalf (a ticketing system, a bot); the
 * audit trail names that token.
 */
export const REQUEST_SOURCES = ["slack", "api", "integration"] as const;
export type RequestSource = (typeof REQUEST_SOURCES)[number];

/** The ticket a flow checked when the request was made, as approvers see it. */
export type LinkedTicket = {
  provider: TicketProviderName;
  key: string;
  title: string;
  url: string;
  /** The state name the provider gave when it was last looked at. */
  state: string;
};

/** What the on-call check concluded (recorded once: a repeated job does not check again). */
export type OnCallOutcome = {
  checkedAt: Date;
  outcome: "approved" | OnCallApprovalReason;
  note: string;
};

export type AccessRequest = {
  id: string;
  flow: FlowRef;
  requesterId: string;
  target: FlowTarget;
  reason: string;
  ticket?: string;
  linkedTicket?: LinkedTicket;
  durationSeconds: number;
  source: RequestSource;
  status: RequestStatus;
  breakGlass: boolean;
  reviews: Review[];
  extensionCount: number;
  createdAt: Date;
  pendingUntil: Date;
  decidedAt?: Date;
  activatedAt?: Date;
  /** Set at activation: the clock starts when access does, not when it was approved. */
  expiresAt?: Date;
  endedAt?: Date;
  failureReason?: string;
  /** Why access ended early, when Keyturn ended it (a closed ticket). */
  endReason?: string;
  /** Access never lasts past this instant, whenever it starts (an on-call grant ends with the shift). */
  notAfter?: Date;
  onCall?: OnCallOutcome;
};
