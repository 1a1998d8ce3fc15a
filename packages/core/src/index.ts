export type {
  ActivateRequest,
  CancelRequest,
  Command,
  CommandType,
  EndForClosedTicket,
  ExpireRequest,
  ExtendRequest,
  FailRequest,
  OverrideDecision,
  RecordOnCallCheck,
  ReviewRequest,
  RevokeRequest,
  SubmitRequest,
  TimeOutRequest,
} from "./access-request/commands.js";
export { type Decision, decide } from "./access-request/decide.js";
export { DECIDE_ERROR_CODES, type DecideError, type DecideErrorCode } from "./access-request/errors.js";
export type {
  ApprovalMode,
  DomainEvent,
  DomainEventType,
  OnCallApprovalEvidence,
} from "./access-request/events.js";
export {
  type AccessRequest,
  isTerminal,
  type LinkedTicket,
  type OnCallOutcome,
  REQUEST_SOURCES,
  REQUEST_STATUSES,
  type RequestSource,
  type RequestStatus,
  type Review,
  type ReviewDecision,
  TERMINAL_STATUSES,
} from "./access-request/state.js";
export { assertNever } from "./assert-never.js";
export { canonicalJson } from "./canonical-json.js";
export { type Actor, isApprover, matchesSelector, mayRequest } from "./flow/actor.js";
export {
  type DurationRules,
  durationProblem,
  minDurationSeconds,
  offeredDurations,
  STANDARD_DURATIONS,
} from "./flow/durations.js";
export {
  checkFlowRules,
  compilePattern,
  type FlowRef,
  type FlowRuleProblem,
  type FlowRules,
  type FlowTarget,
  type OnCallApproval,
  type PrincipalSelector,
  type TicketRule,
} from "./flow/flow-rules.js";
export {
  checkOnCallRule,
  decideOnCall,
  MAX_CHECK_AGE_SECONDS,
  type OnCallApprovalReason,
  type OnCallCheck,
  type OnCallCheckFailure,
  type OnCallDecision,
  type OnCallEvidence,
  type OnCallProvider,
  type OnCallQuery,
  type OnCallRule,
  type OnCallShift,
} from "./integrations/on-call.js";
export {
  checkTicketRequirement,
  normalizeTicketKey,
  type Ticket,
  type TicketCheckFailure,
  type TicketLookup,
  type TicketProblem,
  type TicketProblemCode,
  type TicketProvider,
  type TicketProviderName,
  type TicketRequirement,
  type TicketStateCategory,
  type TicketValidation,
  type TicketWebhookEvent,
  validateTicket,
  type WebhookRejection,
  type WebhookVerification,
} from "./integrations/ticket.js";
export {
  type AssignmentOrigin,
  type DesiredState,
  desiredState,
  isLive,
  type LeaseView,
  nextChangeAt,
} from "./lease/desired-state.js";
export { describeTextProblem, type TextProblem, textProblem } from "./text/storable-text.js";
