import type { FlowTarget } from "../flow/flow-rules.js";
import type { OnCallApprovalReason, OnCallEvidence, OnCallShift } from "../integrations/on-call.js";
import type { LinkedTicket, RequestSource, ReviewDecision } from "./state.js";

type Base<T extends string, D> = { type: T; requestId: string; at: Date } & D;

type RequestSubmitted = Base<
  "RequestSubmitted",
  {
    flow: { name: string; version: number };
    requesterId: string;
    target: FlowTarget;
    durationSeconds: number;
    reason: string;
    ticket?: string;
    /** The checked ticket, as the provider described it at submission. */
    linkedTicket?: LinkedTicket;
    /** integration: filed by an API token on the requester's behalf (the audit actor says which). */
    source: RequestSource;
  }
>;
/** An approval that did not reach the threshold yet. */
type ReviewRecorded = Base<
  "ReviewRecorded",
  { reviewerId: string; decision: ReviewDecision; approvals: number; required: number; selfApproval: boolean }
>;
export type ApprovalMode = "reviews" | "auto" | "break_glass" | "override" | "on_call";
/** Why Keyturn approved an on-call requester: the provider's evidence, kept in the audit event. */
export type OnCallApprovalEvidence = {
  note: string;
  checkedAt: Date;
  shift: OnCallShift;
  evidence: OnCallEvidence;
  capped: boolean;
  /** The grant ends by then whenever it starts (null: uncapped). */
  endsNoLaterThan: Date | null;
  durationSeconds: number;
};
type RequestApproved = Base<
  "RequestApproved",
  {
    mode: ApprovalMode;
    approverIds: string[];
    selfApproval: boolean;
    comment?: string;
    onCall?: OnCallApprovalEvidence;
  }
>;
/** The on-call check did not approve: the request stays with the approvers, the note says why. */
type OnCallNotApproved = Base<
  "OnCallNotApproved",
  { reason: OnCallApprovalReason; note: string; checkedAt: Date; evidence?: OnCallEvidence }
>;
type RequestDenied = Base<"RequestDenied", { reviewerId: string; override: boolean; comment?: string }>;
type RequestCancelled = Base<"RequestCancelled", { by: string; asAdmin: boolean }>;
type RequestTimedOut = Base<"RequestTimedOut", Record<never, never>>;
type RequestActivated = Base<"RequestActivated", { activatedAt: Date; expiresAt: Date }>;
type RequestFailed = Base<"RequestFailed", { reason: string }>;
type RequestExtended = Base<
  "RequestExtended",
  { by: string; additionalSeconds: number; expiresAt: Date; extensionCount: number }
>;
type RequestRevoked = Base<
  "RequestRevoked",
  {
    by: string;
    asAdmin: boolean;
    reason?: string;
    /** Ended by Keyturn because the ticket it was bound to closed. */
    ticket?: { provider: string; key: string; state: string };
  }
>;
type RequestExpired = Base<"RequestExpired", Record<never, never>>;

export type DomainEvent =
  | RequestSubmitted
  | ReviewRecorded
  | RequestApproved
  | RequestDenied
  | RequestCancelled
  | RequestTimedOut
  | RequestActivated
  | RequestFailed
  | RequestExtended
  | RequestRevoked
  | RequestExpired
  | OnCallNotApproved;

export type DomainEventType = DomainEvent["type"];
