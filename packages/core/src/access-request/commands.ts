import type { Actor } from "../flow/actor.js";
import type { FlowRef, FlowTarget } from "../flow/flow-rules.js";
import type { OnCallCheck } from "../integrations/on-call.js";
import type { TicketLookup, TicketProviderName } from "../integrations/ticket.js";
import type { RequestSource, ReviewDecision } from "./state.js";

export type SubmitRequest = {
  type: "SubmitRequest";
  id: string;
  flow: FlowRef;
  requester: Actor;
  target?: FlowTarget;
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  /** The provider's answer about the ticket, when the flow checks tickets (asked by the edge). */
  ticketLookup?: TicketLookup;
  source: RequestSource;
};
export type ReviewRequest = {
  type: "ReviewRequest";
  reviewer: Actor;
  decision: ReviewDecision;
  comment?: string;
};
/** An admin deciding outside the flow's rules; always audited as an override. */
export type OverrideDecision = {
  type: "OverrideDecision";
  admin: Actor;
  decision: ReviewDecision;
  comment: string;
};
export type CancelRequest = { type: "CancelRequest"; actor: Actor; asAdmin: boolean };
export type TimeOutRequest = { type: "TimeOutRequest" };
/**
 * AWS holds the assignment: access started at `startedAt` (when AWS accepted the create, if that
 * is known to be earlier than now, as after a crash), or now.
 */
export type ActivateRequest = { type: "ActivateRequest"; startedAt?: Date };
export type FailRequest = { type: "FailRequest"; reason: string };
export type ExtendRequest = { type: "ExtendRequest"; actor: Actor; additionalSeconds: number };
export type RevokeRequest = { type: "RevokeRequest"; actor: Actor; asAdmin: boolean; reason?: string };
export type ExpireRequest = { type: "ExpireRequest" };
/** The on-call provider's answer about a pending request's requester, judged by the flow's rule. */
export type RecordOnCallCheck = { type: "RecordOnCallCheck"; check: OnCallCheck };
/** The ticket the access is bound to was closed (webhook or poll): Keyturn ends the access. */
export type EndForClosedTicket = {
  type: "EndForClosedTicket";
  provider: TicketProviderName;
  key: string;
  state: string;
};

export type Command =
  | SubmitRequest
  | ReviewRequest
  | OverrideDecision
  | CancelRequest
  | TimeOutRequest
  | ActivateRequest
  | FailRequest
  | ExtendRequest
  | RevokeRequest
  | ExpireRequest
  | RecordOnCallCheck
  | EndForClosedTicket;

export type CommandType = Command["type"];
