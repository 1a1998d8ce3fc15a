import type { TicketProblem } from "../integrations/ticket.js";
import type { RequestStatus } from "./state.js";

export const DECIDE_ERROR_CODES = [
  "REQUEST_EXISTS",
  "REQUEST_NOT_FOUND",
  "NOT_A_REQUESTER",
  "TARGET_REQUIRED",
  "UNKNOWN_TARGET",
  "DURATION_OUT_OF_RANGE",
  "REASON_REQUIRED",
  "REASON_MISMATCH",
  "TICKET_REQUIRED",
  "TICKET_MISMATCH",
  "TICKET_REJECTED",
  "TICKET_UNCHECKED",
  "ALREADY_CHECKED",
  "ALREADY_DECIDED",
  "INVALID_TRANSITION",
  "NOT_AN_APPROVER",
  "SELF_APPROVAL",
  "ALREADY_REVIEWED",
  "NOT_ALLOWED",
  "EXTENSION_NOT_ALLOWED",
  "EXTENSION_LIMIT",
  "EXTENSION_TOO_LONG",
  "NOT_DUE",
] as const;
export type DecideErrorCode = (typeof DECIDE_ERROR_CODES)[number];

export type DecideError = {
  code: DecideErrorCode;
  message: string;
  status?: RequestStatus;
  /** TICKET_REJECTED: every reason the ticket failed the flow's requirement. */
  problems?: TicketProblem[];
};
