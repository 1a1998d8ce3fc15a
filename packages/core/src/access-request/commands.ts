import type { Actor } from "../flow/actor.js";
import type { FlowRef, FlowTarget } from "../flow/flow-rules.js";
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
  | ExpireRequest;

export type CommandType = Command["type"];
