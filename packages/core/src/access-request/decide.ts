import { assertNever } from "../assert-never.js";
import { isApprover, mayRequest } from "../flow/actor.js";
import { durationProblem } from "../flow/durations.js";
import { compilePattern, type FlowRules } from "../flow/flow-rules.js";
import { decideOnCall } from "../integrations/on-call.js";
import { normalizeTicketKey, validateTicket } from "../integrations/ticket.js";
import type {
  ActivateRequest,
  CancelRequest,
  Command,
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
} from "./commands.js";
import type { DecideError, DecideErrorCode } from "./errors.js";
import type { DomainEvent } from "./events.js";
import type { AccessRequest, LinkedTicket, RequestStatus, Review } from "./state.js";

export type Decision =
  | { ok: true; state: AccessRequest; events: DomainEvent[] }
  | { ok: false; error: DecideError };

const fail = (code: DecideErrorCode, message: string, status?: RequestStatus): Decision => ({
  ok: false,
  error: status === undefined ? { code, message } : { code, message, status },
});

const addSeconds = (at: Date, seconds: number) => new Date(at.getTime() + seconds * 1000);
// Lease ends fall on whole seconds: S3 compares aws:CurrentTime to a policy date written in whole
// seconds, so a session cut-off pre-armed for an end on the second starts exactly at that end
// (an end between seconds could only be cut off up to 1 s late). Rounded down: access never
// outlasts what was approved.
const floorSecond = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000);

/**
 * The access-request state machine: data in, data out. Every (state, command) pair is answered,
 * either with the next state and the events that describe it, or with a rejection as a value.
 * Time arrives as `now`; nothing here reads a clock.
 */
export function decide(state: AccessRequest | null, command: Command, now: Date): Decision {
  if (command.type === "SubmitRequest") {
    return state === null
      ? submit(command, now)
      : fail("REQUEST_EXISTS", `request ${state.id} already exists`);
  }
  if (state === null) {
    return fail("REQUEST_NOT_FOUND", "no such request");
  }
  switch (command.type) {
    case "ReviewRequest":
      return review(state, command, now);
    case "OverrideDecision":
      return override(state, command, now);
    case "CancelRequest":
      return cancel(state, command, now);
    case "TimeOutRequest":
      return timeOut(state, command, now);
    case "ActivateRequest":
      return activate(state, command, now);
    case "FailRequest":
      return failRequest(state, command, now);
    case "ExtendRequest":
      return extend(state, command, now);
    case "RevokeRequest":
      return revoke(state, command, now);
    case "ExpireRequest":
      return expire(state, command, now);
    case "RecordOnCallCheck":
      return recordOnCallCheck(state, command, now);
    case "EndForClosedTicket":
      return endForClosedTicket(state, command, now);
    default:
      return assertNever(command);
  }
}

function submit(command: SubmitRequest, now: Date): Decision {
  const { rules } = command.flow;
  if (!mayRequest(rules, command.requester)) {
    return fail(
      "NOT_A_REQUESTER",
      `you are not allowed to request access through flow '${command.flow.name}'`,
    );
  }
  const target = command.target ?? (rules.targets.length === 1 ? rules.targets[0] : undefined);
  if (target === undefined) {
    return fail("TARGET_REQUIRED", `flow '${command.flow.name}' has several targets: choose one`);
  }
  const known = rules.targets.some(
    (t) => t.accountId === target.accountId && t.permissionSetName === target.permissionSetName,
  );
  if (!known) {
    return fail(
      "UNKNOWN_TARGET",
      `${target.permissionSetName} in account ${target.accountId} is not a target of flow '${command.flow.name}'`,
    );
  }
  const durationSeconds = command.durationSeconds ?? rules.defaultDurationSeconds;
  const durationIssue = durationProblem(rules, durationSeconds);
  if (durationIssue !== null) {
    return fail("DURATION_OUT_OF_RANGE", durationIssue);
  }
  const reason = (command.reason ?? "").trim();
  if (rules.reason.required && reason === "") {
    return fail("REASON_REQUIRED", `flow '${command.flow.name}' requires a reason`);
  }
  if (
    reason !== "" &&
    rules.reason.pattern !== undefined &&
    !compilePattern(rules.reason.pattern)?.test(reason)
  ) {
    return fail("REASON_MISMATCH", `the reason must match ${rules.reason.pattern}`);
  }
  const ticket = command.ticket?.trim() || undefined;
  if (rules.ticket.required && ticket === undefined) {
    return fail("TICKET_REQUIRED", `flow '${command.flow.name}' requires a ticket`);
  }
  if (
    ticket !== undefined &&
    rules.ticket.pattern !== undefined &&
    !compilePattern(rules.ticket.pattern)?.test(ticket)
  ) {
    return fail("TICKET_MISMATCH", `the ticket must match ${rules.ticket.pattern}`);
  }
  const checked = ticket === undefined ? null : checkTicket(rules, ticket, command);
  if (checked !== null && !checked.ok) {
    return checked.decision;
  }
  const linkedTicket = checked?.linkedTicket;

  const pending: AccessRequest = {
    id: command.id,
    flow: command.flow,
    requesterId: command.requester.identityId,
    target,
    reason,
    ...(ticket === undefined ? {} : { ticket: linkedTicket?.key ?? ticket }),
    ...(linkedTicket === undefined ? {} : { linkedTicket }),
    durationSeconds,
    source: command.source,
    status: "pending",
    breakGlass: rules.breakGlass,
    reviews: [],
    extensionCount: 0,
    createdAt: now,
    pendingUntil: addSeconds(now, rules.pendingTimeoutSeconds),
  };
  const submitted: DomainEvent = {
    type: "RequestSubmitted",
    requestId: command.id,
    at: now,
    flow: { name: command.flow.name, version: command.flow.version },
    requesterId: pending.requesterId,
    target,
    durationSeconds,
    reason,
    ...(ticket === undefined ? {} : { ticket: linkedTicket?.key ?? ticket }),
    ...(linkedTicket === undefined ? {} : { linkedTicket }),
    source: command.source,
  };
  if (!rules.autoApprove && !rules.breakGlass) {
    return { ok: true, state: pending, events: [submitted] };
  }
  const approved: AccessRequest = { ...pending, status: "approved", decidedAt: now };
  return {
    ok: true,
    state: approved,
    events: [
      submitted,
      {
        type: "RequestApproved",
        requestId: command.id,
        at: now,
        mode: rules.breakGlass ? "break_glass" : "auto",
        approverIds: [],
        // Break-glass is by definition the requester approving themself, and is marked so.
        selfApproval: rules.breakGlass,
      },
    ],
  };
}

/**
 * A flow that checks tickets judges the provider's answer (looked up by the edge) against its
 * requirement; no answer, or an answer about another ticket, is never a pass.
 */
function checkTicket(
  rules: FlowRules,
  ticket: string,
  command: SubmitRequest,
): { ok: true; linkedTicket?: LinkedTicket } | { ok: false; decision: Decision } {
  const requirement = rules.ticket.check;
  if (requirement === undefined) {
    return { ok: true };
  }
  const lookup = command.ticketLookup;
  const expected = normalizeTicketKey(requirement.provider, ticket);
  const about =
    lookup === undefined
      ? null
      : lookup.kind === "invalid_key"
        ? normalizeTicketKey(requirement.provider, lookup.input)
        : lookup.kind === "found"
          ? lookup.ticket.key
          : lookup.key;
  if (lookup === undefined || (lookup.kind !== "invalid_key" && about !== expected)) {
    return {
      ok: false,
      decision: fail(
        "TICKET_UNCHECKED",
        `Keyturn could not check the ticket ${ticket.slice(0, 100)}; try again`,
      ),
    };
  }
  const validation = validateTicket({ lookup, requirement, requesterEmail: command.requester.email });
  if (!validation.ok) {
    return {
      ok: false,
      decision: {
        ok: false,
        error: {
          code: "TICKET_REJECTED",
          message: validation.problems.map((p) => p.message).join(" "),
          problems: validation.problems,
        },
      },
    };
  }
  const found = validation.ticket;
  return {
    ok: true,
    linkedTicket: {
      provider: found.provider,
      key: found.key,
      title: found.title,
      url: found.url,
      state: found.state.name,
    },
  };
}

function alreadyDecided(state: AccessRequest): Decision {
  const approvers = state.reviews.filter((r) => r.decision === "approve").map((r) => r.reviewerId);
  const by = state.status === "approved" || state.status === "active" ? approvers : [];
  const suffix = by.length > 0 ? ` by ${by.join(", ")}` : "";
  return fail(
    "ALREADY_DECIDED",
    `request is already ${state.status.replace("_", " ")}${suffix}`,
    state.status,
  );
}

function review(state: AccessRequest, command: ReviewRequest, now: Date): Decision {
  if (state.status !== "pending") {
    return alreadyDecided(state);
  }
  const { rules } = state.flow;
  const reviewer = command.reviewer;
  if (!isApprover(rules, reviewer)) {
    return fail("NOT_AN_APPROVER", `you are not an approver of flow '${state.flow.name}'`);
  }
  const selfApproval = reviewer.identityId === state.requesterId;
  if (selfApproval && !rules.selfApproval) {
    return fail("SELF_APPROVAL", "you cannot review your own request");
  }
  if (state.reviews.some((r) => r.reviewerId === reviewer.identityId)) {
    return fail("ALREADY_REVIEWED", "you have already reviewed this request");
  }
  const entry: Review = {
    reviewerId: reviewer.identityId,
    decision: command.decision,
    at: now,
    override: false,
    ...(command.comment === undefined ? {} : { comment: command.comment }),
  };
  const reviews = [...state.reviews, entry];
  const comment = command.comment === undefined ? {} : { comment: command.comment };
  if (command.decision === "deny") {
    return {
      ok: true,
      state: { ...state, reviews, status: "denied", decidedAt: now, endedAt: now },
      events: [
        {
          type: "RequestDenied",
          requestId: state.id,
          at: now,
          reviewerId: reviewer.identityId,
          override: false,
          ...comment,
        },
      ],
    };
  }
  const approvals = reviews.filter((r) => r.decision === "approve" && !r.override);
  if (approvals.length < rules.approvalsRequired) {
    return {
      ok: true,
      state: { ...state, reviews },
      events: [
        {
          type: "ReviewRecorded",
          requestId: state.id,
          at: now,
          reviewerId: reviewer.identityId,
          decision: "approve",
          approvals: approvals.length,
          required: rules.approvalsRequired,
          selfApproval,
        },
      ],
    };
  }
  return {
    ok: true,
    state: { ...state, reviews, status: "approved", decidedAt: now },
    events: [
      {
        type: "RequestApproved",
        requestId: state.id,
        at: now,
        mode: "reviews",
        approverIds: approvals.map((r) => r.reviewerId),
        selfApproval: approvals.some((r) => r.reviewerId === state.requesterId),
        ...comment,
      },
    ],
  };
}

function override(state: AccessRequest, command: OverrideDecision, now: Date): Decision {
  if (state.status !== "pending") {
    return alreadyDecided(state);
  }
  const adminId = command.admin.identityId;
  if (state.reviews.some((r) => r.reviewerId === adminId)) {
    return fail("ALREADY_REVIEWED", "you have already reviewed this request");
  }
  const entry: Review = {
    reviewerId: adminId,
    decision: command.decision,
    comment: command.comment,
    at: now,
    override: true,
  };
  const reviews = [...state.reviews, entry];
  if (command.decision === "deny") {
    return {
      ok: true,
      state: { ...state, reviews, status: "denied", decidedAt: now, endedAt: now },
      events: [
        {
          type: "RequestDenied",
          requestId: state.id,
          at: now,
          reviewerId: adminId,
          override: true,
          comment: command.comment,
        },
      ],
    };
  }
  return {
    ok: true,
    state: { ...state, reviews, status: "approved", decidedAt: now },
    events: [
      {
        type: "RequestApproved",
        requestId: state.id,
        at: now,
        mode: "override",
        approverIds: [adminId],
        selfApproval: adminId === state.requesterId,
        comment: command.comment,
      },
    ],
  };
}

function cancel(state: AccessRequest, command: CancelRequest, now: Date): Decision {
  if (state.status !== "pending") {
    return state.status === "approved" || state.status === "active"
      ? fail(
          "INVALID_TRANSITION",
          `request is ${state.status}: revoke it instead of cancelling`,
          state.status,
        )
      : alreadyDecided(state);
  }
  if (!command.asAdmin && command.actor.identityId !== state.requesterId) {
    return fail("NOT_ALLOWED", "only the requester can cancel a pending request");
  }
  return {
    ok: true,
    state: { ...state, status: "cancelled", endedAt: now },
    events: [
      {
        type: "RequestCancelled",
        requestId: state.id,
        at: now,
        by: command.actor.identityId,
        asAdmin: command.asAdmin,
      },
    ],
  };
}

function timeOut(state: AccessRequest, _command: TimeOutRequest, now: Date): Decision {
  if (state.status !== "pending") {
    return alreadyDecided(state);
  }
  if (now < state.pendingUntil) {
    return fail("NOT_DUE", `request stays pending until ${state.pendingUntil.toISOString()}`, state.status);
  }
  return {
    ok: true,
    state: { ...state, status: "timed_out", endedAt: now },
    events: [{ type: "RequestTimedOut", requestId: state.id, at: now }],
  };
}

function activate(state: AccessRequest, command: ActivateRequest, now: Date): Decision {
  if (state.status !== "approved") {
    return fail(
      "INVALID_TRANSITION",
      `only an approved request can become active; this one is ${state.status}`,
      state.status,
    );
  }
  // Access cannot have started before the approval, nor after the moment it is recorded.
  const earliest = state.decidedAt ?? state.createdAt;
  const startedAt = command.startedAt ?? now;
  const activatedAt = startedAt > now ? now : startedAt < earliest ? earliest : new Date(startedAt.getTime());
  const lasts = addSeconds(activatedAt, state.durationSeconds);
  // A capped grant (an on-call shift's end) never outlasts its cap, however late it activates.
  const expiresAt = floorSecond(
    state.notAfter !== undefined && state.notAfter < lasts ? state.notAfter : lasts,
  );
  return {
    ok: true,
    state: { ...state, status: "active", activatedAt, expiresAt },
    events: [{ type: "RequestActivated", requestId: state.id, at: now, activatedAt, expiresAt }],
  };
}

function failRequest(state: AccessRequest, command: FailRequest, now: Date): Decision {
  if (state.status !== "approved") {
    return fail(
      "INVALID_TRANSITION",
      `only an approved request can fail to activate; this one is ${state.status}`,
      state.status,
    );
  }
  return {
    ok: true,
    state: { ...state, status: "failed", failureReason: command.reason, endedAt: now },
    events: [{ type: "RequestFailed", requestId: state.id, at: now, reason: command.reason }],
  };
}

function extend(state: AccessRequest, command: ExtendRequest, now: Date): Decision {
  if (state.status !== "active" || state.expiresAt === undefined) {
    return fail(
      "INVALID_TRANSITION",
      `only active access can be extended; this request is ${state.status}`,
      state.status,
    );
  }
  const { rules } = state.flow;
  const { extensions } = rules;
  if (extensions.maxCount === 0) {
    return fail("EXTENSION_NOT_ALLOWED", `flow '${state.flow.name}' does not allow extensions`);
  }
  const actor = command.actor;
  const isRequester = actor.identityId === state.requesterId;
  if (extensions.requiresApproval) {
    // An extension that needs approval is granted by an approver, under the same self-approval rule.
    if (!isApprover(rules, actor)) {
      return fail("NOT_AN_APPROVER", `extensions of flow '${state.flow.name}' are granted by its approvers`);
    }
    if (isRequester && !rules.selfApproval) {
      return fail("SELF_APPROVAL", "you cannot approve an extension of your own access");
    }
  } else if (!isRequester) {
    return fail("NOT_ALLOWED", "only the requester can extend their access");
  }
  if (state.extensionCount >= extensions.maxCount) {
    return fail(
      "EXTENSION_LIMIT",
      `already extended ${state.extensionCount} of ${extensions.maxCount} times`,
    );
  }
  const seconds = command.additionalSeconds;
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds > extensions.maxExtensionSeconds) {
    return fail(
      "EXTENSION_TOO_LONG",
      `an extension must be between 1 and ${extensions.maxExtensionSeconds} seconds`,
    );
  }
  const expiresAt = addSeconds(state.expiresAt, seconds);
  if (state.notAfter !== undefined && expiresAt > state.notAfter) {
    return fail(
      "EXTENSION_TOO_LONG",
      `this access was approved for an on-call shift and ends with it, at ${state.notAfter.toISOString()}; request access again`,
    );
  }
  const extensionCount = state.extensionCount + 1;
  return {
    ok: true,
    state: { ...state, expiresAt, extensionCount },
    events: [
      {
        type: "RequestExtended",
        requestId: state.id,
        at: now,
        by: actor.identityId,
        additionalSeconds: seconds,
        expiresAt,
        extensionCount,
      },
    ],
  };
}

function revoke(state: AccessRequest, command: RevokeRequest, now: Date): Decision {
  if (state.status !== "approved" && state.status !== "active") {
    return fail(
      "INVALID_TRANSITION",
      `only approved or active access can be revoked; this request is ${state.status}`,
      state.status,
    );
  }
  const actor = command.actor;
  const allowed =
    command.asAdmin || actor.identityId === state.requesterId || isApprover(state.flow.rules, actor);
  if (!allowed) {
    return fail("NOT_ALLOWED", "only the requester, an approver or an admin can revoke this access");
  }
  return {
    ok: true,
    state: { ...state, status: "revoked", endedAt: now },
    events: [
      {
        type: "RequestRevoked",
        requestId: state.id,
        at: now,
        by: actor.identityId,
        asAdmin: command.asAdmin,
        ...(command.reason === undefined ? {} : { reason: command.reason }),
      },
    ],
  };
}

function expire(state: AccessRequest, _command: ExpireRequest, now: Date): Decision {
  if (state.status !== "active" || state.expiresAt === undefined) {
    return fail(
      "INVALID_TRANSITION",
      `only active access can expire; this request is ${state.status}`,
      state.status,
    );
  }
  if (now < state.expiresAt) {
    return fail("NOT_DUE", `access runs until ${state.expiresAt.toISOString()}`, state.status);
  }
  return {
    ok: true,
    state: { ...state, status: "expired", endedAt: now },
    events: [{ type: "RequestExpired", requestId: state.id, at: now }],
  };
}

function recordOnCallCheck(state: AccessRequest, command: RecordOnCallCheck, now: Date): Decision {
  const rule = state.flow.rules.onCallApproval;
  if (rule === undefined) {
    return fail("NOT_ALLOWED", `flow '${state.flow.name}' has no on-call approval`);
  }
  if (state.status !== "pending") {
    return alreadyDecided(state);
  }
  if (state.onCall !== undefined) {
    return fail(
      "ALREADY_CHECKED",
      `the on-call check was recorded at ${state.onCall.checkedAt.toISOString()}`,
      state.status,
    );
  }
  const { check } = command;
  const requested =
    rule.maxGrantSeconds === undefined
      ? state.durationSeconds
      : Math.min(state.durationSeconds, rule.maxGrantSeconds);
  const decision = decideOnCall({ check, rule, requestedDurationSeconds: requested, now });
  const evidence = check.kind === "check_failed" ? undefined : check.evidence;
  if (decision.kind === "to_approvers") {
    return {
      ok: true,
      state: {
        ...state,
        onCall: { checkedAt: check.checkedAt, outcome: decision.reason, note: decision.note },
      },
      events: [
        {
          type: "OnCallNotApproved",
          requestId: state.id,
          at: now,
          reason: decision.reason,
          note: decision.note,
          checkedAt: check.checkedAt,
          ...(evidence === undefined ? {} : { evidence }),
        },
      ],
    };
  }
  // decideOnCall approves only on an answer that the requester is on call.
  const onCallAnswer = check.kind === "on_call" ? check : null;
  if (onCallAnswer === null) {
    return fail(
      "INVALID_TRANSITION",
      "an on-call approval needs the provider's on-call answer",
      state.status,
    );
  }
  const capNote =
    decision.durationSeconds < state.durationSeconds && !decision.capped
      ? ` Access capped at ${decision.durationSeconds} s by the flow.`
      : "";
  const note = `${decision.note}${capNote}`;
  return {
    ok: true,
    state: {
      ...state,
      status: "approved",
      decidedAt: now,
      durationSeconds: decision.durationSeconds,
      ...(decision.endsNoLaterThan === null ? {} : { notAfter: decision.endsNoLaterThan }),
      onCall: { checkedAt: check.checkedAt, outcome: "approved", note },
    },
    events: [
      {
        type: "RequestApproved",
        requestId: state.id,
        at: now,
        mode: "on_call",
        approverIds: [],
        selfApproval: false,
        onCall: {
          note,
          checkedAt: check.checkedAt,
          shift: decision.shift,
          evidence: onCallAnswer.evidence,
          capped: decision.capped || capNote !== "",
          endsNoLaterThan: decision.endsNoLaterThan,
          durationSeconds: decision.durationSeconds,
        },
      },
    ],
  };
}

function endForClosedTicket(state: AccessRequest, command: EndForClosedTicket, now: Date): Decision {
  const linked = state.linkedTicket;
  if (linked === undefined || linked.provider !== command.provider || linked.key !== command.key) {
    return fail("NOT_ALLOWED", `this access is not bound to ${command.provider} ticket ${command.key}`);
  }
  if (state.status !== "approved" && state.status !== "active") {
    return fail(
      "INVALID_TRANSITION",
      `only approved or active access can end; this request is ${state.status}`,
      state.status,
    );
  }
  const reason = `ended: ticket ${command.key} closed (${command.state})`;
  return {
    ok: true,
    state: {
      ...state,
      status: "revoked",
      endedAt: now,
      endReason: reason,
      linkedTicket: { ...linked, state: command.state },
    },
    events: [
      {
        type: "RequestRevoked",
        requestId: state.id,
        at: now,
        by: "keyturn",
        asAdmin: false,
        reason,
        ticket: { provider: command.provider, key: command.key, state: command.state },
      },
    ],
  };
}
