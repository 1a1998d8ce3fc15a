import type { FlowTarget } from "../flow/flow-rules.js";
import type { RequestSource, ReviewDecision } from "./state.js";

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
    /** integration: filed by an API token on the requester's behalf (the audit actor says which). */
    source: RequestSource;
  }
>;
/** An approval that did not reach the threshold yet. */
type ReviewRecorded = Base<
  "ReviewRecorded",
  { reviewerId: string; decision: ReviewDecision; approvals: number; required: number; selfApproval: boolean }
>;
export type ApprovalMode = "reviews" | "auto" | "break_glass" | "override";
type RequestApproved = Base<
  "RequestApproved",
  { mode: ApprovalMode; approverIds: string[]; selfApproval: boolean; comment?: string }
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
type RequestRevoked = Base<"RequestRevoked", { by: string; asAdmin: boolean; reason?: string }>;
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
  | RequestExpired;

export type DomainEventType = DomainEvent["type"];
