import type { FlowRuleProblem } from "../flow/flow-rules.js";

// On-call auto-approval: a requester who is on call right now in one of a flow's schedules or
// escalation policies is approved by Keyturn itself, the grant capped at the shift's end; anyone
// else, and everyone when the check failed, goes to the approvers. The provider is asked at the
// moment of the decision; nothing here remembers an answer, so an ended shift never approves.

/** Which of a provider's schedules / escalation policies count, as a flow names them. */
export type OnCallRule = {
  provider: "pagerduty";
  schedules: string[];
  escalationPolicies: string[];
  /** Cap the grant at the end of the shift (default true). */
  capToShift?: boolean;
  /** A capped grant shorter than this goes to the approvers instead (the shift is nearly over). */
  minGrantSeconds?: number;
  /** Only escalation levels up to this one count (1 = the first responder). Default: any level. */
  maxEscalationLevel?: number;
};

export type OnCallQuery = {
  email: string;
  schedules: string[];
  escalationPolicies: string[];
  maxEscalationLevel?: number;
};

/** One on-call entry of the provider that makes the requester on call. */
export type OnCallShift = {
  /** Why this entry counts: its schedule is named by the flow, or its escalation policy is. */
  matchedBy: "schedule" | "escalation_policy";
  schedule: { id: string; name: string } | null;
  escalationPolicy: { id: string; name: string };
  escalationLevel: number;
  /** null: always on call (a direct escalation target), as the provider reports it. */
  startsAt: Date | null;
  endsAt: Date | null;
};

/** What the provider said, kept for the audit event: the request made and the entries it answered. */
export type OnCallEvidence = {
  provider: "pagerduty";
  /** The provider's own id of the requester, when one of its on-calls named them. */
  providerUserId: string | null;
  request: string;
  /** The matching entries as the provider sent them (times in its own notation). */
  entries: readonly {
    schedule: string | null;
    escalationPolicy: string;
    escalationLevel: number;
    start: string | null;
    end: string | null;
  }[];
  /** How many on-call entries the provider listed for the schedules and policies. */
  entriesSeen: number;
};

export type OnCallCheckFailure =
  /** No answer within the bound. */
  | "timeout"
  /** 5xx, a refused or dropped connection. */
  | "unavailable"
  | "rate_limited"
  /** An answer that is not what the provider documents (bad JSON, missing fields, a cut-off page). */
  | "malformed"
  /** 401/403: the token is wrong, revoked or lacks access. */
  | "auth"
  /** The rule itself cannot be checked (nothing to check against, a schedule that does not exist). */
  | "misconfigured";

export type OnCallCheck =
  | {
      kind: "on_call";
      checkedAt: Date;
      shift: OnCallShift;
      shifts: readonly OnCallShift[];
      evidence: OnCallEvidence;
    }
  | { kind: "not_on_call"; checkedAt: Date; evidence: OnCallEvidence }
  | { kind: "check_failed"; checkedAt: Date; reason: OnCallCheckFailure; detail: string };

/** The port an on-call provider's adapter implements (PagerDuty first; Opsgenie-like ones may follow). */
export type OnCallProvider = {
  readonly name: OnCallRule["provider"];
  /** Asks the provider now; never answers from a cache, never throws (failures are `check_failed`). */
  check(query: OnCallQuery): Promise<OnCallCheck>;
};

/** Why an on-call check sent the request to the approvers. */
export type OnCallApprovalReason = "not_on_call" | "check_failed" | "check_stale" | "shift_ending";

export type OnCallDecision =
  | {
      kind: "approve";
      /** The grant's length: the requested one, or less when capped at the shift's end. */
      durationSeconds: number;
      /**
       * The grant must end by this instant whatever happens before activation (the lease clock
       * starts at activation, so a capped duration alone could outlast the shift). null: uncapped.
       */
      endsNoLaterThan: Date | null;
      capped: boolean;
      shift: OnCallShift;
      note: string;
    }
  | {
      kind: "to_approvers";
      reason: OnCallApprovalReason;
      note: string;
    };

/** An answer older than this is not acted on: it may describe a shift that has since ended. */
export const MAX_CHECK_AGE_SECONDS = 60;

function describeShift(shift: OnCallShift): string {
  const where =
    shift.matchedBy === "schedule" && shift.schedule !== null
      ? `schedule ${shift.schedule.name} (${shift.schedule.id})`
      : `escalation policy ${shift.escalationPolicy.name} (${shift.escalationPolicy.id}), level ${shift.escalationLevel}`;
  const until = shift.endsAt === null ? "with no end" : `until ${shift.endsAt.toISOString()}`;
  return `on call in ${where} ${until}`;
}

const FAILURE_TEXT: Readonly<Record<OnCallCheckFailure, string>> = {
  timeout: "the provider did not answer in time",
  unavailable: "the provider is unavailable",
  rate_limited: "the provider is rate-limiting Keyturn",
  malformed: "the provider's answer could not be read",
  auth: "Keyturn's token was refused",
  misconfigured: "the flow's on-call rule cannot be checked",
};

/**
 * Approve an on-call requester (capped at the shift's end unless the rule says otherwise), or
 * send the request to the approvers with a note saying why. Never approves on a failed, stale or
 * ambiguous answer.
 */
export function decideOnCall(input: {
  check: OnCallCheck;
  rule: OnCallRule;
  requestedDurationSeconds: number;
  now: Date;
}): OnCallDecision {
  const { check, rule, requestedDurationSeconds, now } = input;
  const checkedAt = check.checkedAt.toISOString();
  if (check.kind === "check_failed") {
    return {
      kind: "to_approvers",
      reason: "check_failed",
      note: `On-call check failed (${check.reason}: ${FAILURE_TEXT[check.reason]}) at ${checkedAt}; not auto-approved.`,
    };
  }
  const ageMs = now.getTime() - check.checkedAt.getTime();
  if (ageMs > MAX_CHECK_AGE_SECONDS * 1000 || ageMs < -MAX_CHECK_AGE_SECONDS * 1000) {
    return {
      kind: "to_approvers",
      reason: "check_stale",
      note: `On-call check from ${checkedAt} is too old to act on at ${now.toISOString()}; not auto-approved.`,
    };
  }
  if (check.kind === "not_on_call") {
    return {
      kind: "to_approvers",
      reason: "not_on_call",
      note: `Not on call in the flow's schedules or escalation policies (checked at ${checkedAt}).`,
    };
  }
  const { shift } = check;
  const described = `${describeShift(shift)}, checked at ${checkedAt}`;
  // The adapter lists only shifts covering the check; a shift outside `now` is not acted on.
  if (
    (shift.startsAt !== null && shift.startsAt.getTime() > now.getTime()) ||
    (shift.endsAt !== null && shift.endsAt.getTime() <= now.getTime() && rule.capToShift === false)
  ) {
    return {
      kind: "to_approvers",
      reason: "not_on_call",
      note: `No shift covers ${now.toISOString()} (${described}); not auto-approved.`,
    };
  }
  if (shift.endsAt === null || rule.capToShift === false) {
    return {
      kind: "approve",
      durationSeconds: requestedDurationSeconds,
      endsNoLaterThan: null,
      capped: false,
      shift,
      note: `Auto-approved: ${described}.`,
    };
  }
  const remainingSeconds = Math.floor((shift.endsAt.getTime() - now.getTime()) / 1000);
  const minimum = Math.max(rule.minGrantSeconds ?? 1, 1);
  if (remainingSeconds < minimum) {
    return {
      kind: "to_approvers",
      reason: "shift_ending",
      note: `The shift ends in ${Math.max(remainingSeconds, 0)} s, less than the ${minimum} s minimum grant (${described}); not auto-approved.`,
    };
  }
  const capped = remainingSeconds < requestedDurationSeconds;
  return {
    kind: "approve",
    durationSeconds: capped ? remainingSeconds : requestedDurationSeconds,
    endsNoLaterThan: shift.endsAt,
    capped,
    shift,
    note: capped
      ? `Auto-approved: ${described}; access capped at the shift's end.`
      : `Auto-approved: ${described}.`,
  };
}

const PROVIDER_ID = /^[A-Za-z0-9]{1,64}$/;

/** Problems with an on-call rule as an admin wrote it (paths relative to the rule). */
export function checkOnCallRule(rule: OnCallRule): FlowRuleProblem[] {
  const problems: FlowRuleProblem[] = [];
  if (rule.schedules.length === 0 && rule.escalationPolicies.length === 0) {
    problems.push({ path: "schedules", message: "name at least one schedule or escalation policy" });
  }
  for (const [field, ids] of [
    ["schedules", rule.schedules],
    ["escalationPolicies", rule.escalationPolicies],
  ] as const) {
    ids.forEach((id, i) => {
      if (!PROVIDER_ID.test(id)) {
        problems.push({ path: `${field}[${i}]`, message: `"${id}" is not a PagerDuty id` });
      }
    });
  }
  if (
    rule.minGrantSeconds !== undefined &&
    !(Number.isInteger(rule.minGrantSeconds) && rule.minGrantSeconds > 0)
  ) {
    problems.push({ path: "minGrantSeconds", message: "must be a positive whole number of seconds" });
  }
  if (
    rule.maxEscalationLevel !== undefined &&
    !(Number.isInteger(rule.maxEscalationLevel) && rule.maxEscalationLevel >= 1)
  ) {
    problems.push({ path: "maxEscalationLevel", message: "must be a whole number from 1" });
  }
  return problems;
}
