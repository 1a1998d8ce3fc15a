import { checkOnCallRule, type OnCallRule } from "../integrations/on-call.js";
import { checkTicketRequirement, type TicketRequirement } from "../integrations/ticket.js";

/**
 * A flow is an access rule: who may request which targets, who approves, and the limits. The
 * shape is validated at the edges (zod); `checkFlowRules` enforces the rules' own consistency.
 */
export type PrincipalSelector =
  | { kind: "anyone" }
  | { kind: "email"; email: string }
  | { kind: "slack_user"; id: string }
  | { kind: "slack_group"; id: string };

export type FlowTarget = { accountId: string; permissionSetName: string };

export type FlowRules = {
  title: string;
  description?: string;
  targets: FlowTarget[];
  requesters: PrincipalSelector[];
  approvers: PrincipalSelector[];
  /** n approvals from n distinct approvers. */
  approvalsRequired: number;
  selfApproval: boolean;
  /** Every request is approved at once (unconditionally). */
  autoApprove: boolean;
  /**
   * A requester on call right now (asked of the provider after submission) is approved by Keyturn
   * itself; everyone else, and everyone when the check fails, goes to the approvers. A field of its
   * own rather than a shape of `autoApprove`, so that no truthiness test of `autoApprove` can ever
   * read an on-call rule as "approve everyone".
   */
  onCallApproval?: OnCallApproval;
  /** Self-activating; every activation needs an after-the-fact review and raises an alert. */
  breakGlass: boolean;
  defaultDurationSeconds: number;
  maxDurationSeconds: number;
  /** The shortest access the flow grants (default: one second). */
  minDurationSeconds?: number;
  /**
   * When set, the only durations the flow grants (the modal, the API and the CLI offer these);
   * otherwise anything within the bounds, offered as standard steps (see durations.ts).
   */
  offeredDurationsSeconds?: number[];
  reason: { required: boolean; pattern?: string };
  ticket: TicketRule;
  pendingTimeoutSeconds: number;
  extensions: { maxCount: number; maxExtensionSeconds: number; requiresApproval: boolean };
  approvalChannel?: string;
  /**
   * What the drift scan does with assignments of this flow's targets that Keyturn neither granted
   * nor found preexisting: report them (default) or also remove them.
   */
  drift?: "report" | "remove";
};

/** On-call auto-approval, with an optional cap on the grant besides the shift's end. */
export type OnCallApproval = Flat<
  OnCallRule & {
    /** No on-call grant lasts longer than this, whatever was requested. */
    maxGrantSeconds?: number;
  }
>;
type Flat<T> = { [K in keyof T]: T[K] };

/**
 * What the request's ticket must be. With `check`, the ticket is looked up at the provider when
 * the request is made, judged against the requirement, shown to approvers, and its closing ends
 * the access.
 */
export type TicketRule = { required: boolean; pattern?: string; check?: TicketRequirement };

export type FlowRef = { name: string; version: number; rules: FlowRules };

export type FlowRuleProblem = { path: string; message: string };

/** Regexes come from admins; anchor them so "PROJ-1" cannot pass a pattern by containing it. */
export function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(`^(?:${pattern})$`, "u");
  } catch {
    return null;
  }
}

export function checkFlowRules(rules: FlowRules): FlowRuleProblem[] {
  const problems: FlowRuleProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (rules.targets.length === 0) {
    add("targets", "a flow needs at least one target");
  }
  const seen = new Set<string>();
  rules.targets.forEach((target, i) => {
    const key = `${target.accountId}/${target.permissionSetName}`;
    if (seen.has(key)) {
      add(`targets[${i}]`, `duplicate target ${key}`);
    }
    seen.add(key);
  });
  if (rules.defaultDurationSeconds > rules.maxDurationSeconds) {
    add("defaultDurationSeconds", "must not exceed maxDurationSeconds");
  }
  const min = rules.minDurationSeconds;
  if (min !== undefined && (!Number.isInteger(min) || min < 1)) {
    add("minDurationSeconds", "must be a whole number of seconds, at least 1");
  } else if (min !== undefined && min > rules.defaultDurationSeconds) {
    add("minDurationSeconds", "must not exceed defaultDurationSeconds");
  }
  const offered = rules.offeredDurationsSeconds;
  if (offered !== undefined) {
    if (offered.length === 0) {
      add(
        "offeredDurationsSeconds",
        "name at least one duration, or leave it out to offer the standard steps",
      );
    }
    if (new Set(offered).size !== offered.length) {
      add("offeredDurationsSeconds", "lists a duration twice");
    }
    offered.forEach((seconds, i) => {
      if (!Number.isInteger(seconds) || seconds < (min ?? 1) || seconds > rules.maxDurationSeconds) {
        add(`offeredDurationsSeconds[${i}]`, "must be within minDurationSeconds and maxDurationSeconds");
      }
    });
    if (!offered.includes(rules.defaultDurationSeconds)) {
      add("offeredDurationsSeconds", "must include defaultDurationSeconds");
    }
  }
  const automatic = rules.autoApprove || rules.breakGlass;
  if (rules.autoApprove && rules.breakGlass) {
    add("breakGlass", "a flow is either auto-approved or break-glass, not both");
  }
  if (!automatic && rules.approvers.length === 0) {
    add("approvers", "a flow that is not auto-approved or break-glass needs approvers");
  }
  const namedApprovers = rules.approvers.filter((a) => a.kind === "email" || a.kind === "slack_user").length;
  const onlyNamed = rules.approvers.every((a) => a.kind === "email" || a.kind === "slack_user");
  if (!automatic && onlyNamed && namedApprovers > 0 && rules.approvalsRequired > namedApprovers) {
    add(
      "approvalsRequired",
      `needs ${rules.approvalsRequired} approvers but only ${namedApprovers} are listed`,
    );
  }
  if (rules.approvers.some((a) => a.kind === "anyone")) {
    add("approvers", "'anyone' cannot approve: name people or groups");
  }
  for (const field of ["reason", "ticket"] as const) {
    const pattern = rules[field].pattern;
    if (pattern !== undefined && compilePattern(pattern) === null) {
      add(`${field}.pattern`, "is not a valid regular expression");
    }
  }
  const onCall = rules.onCallApproval;
  if (onCall !== undefined) {
    if (automatic) {
      add("onCallApproval", "an auto-approved or break-glass flow has no use for on-call approval");
    }
    for (const problem of checkOnCallRule(onCall)) {
      add(`onCallApproval.${problem.path}`, problem.message);
    }
    const cap = onCall.maxGrantSeconds;
    if (cap !== undefined && !(Number.isInteger(cap) && cap > 0)) {
      add("onCallApproval.maxGrantSeconds", "must be a positive whole number of seconds");
    }
  }
  const check = rules.ticket.check;
  if (check !== undefined) {
    if (!rules.ticket.required) {
      add("ticket.required", "a ticket the flow checks must be required");
    }
    for (const problem of checkTicketRequirement(check)) {
      add(`ticket.check.${problem.path}`, problem.message);
    }
  }
  if (rules.extensions.maxCount > 0 && rules.extensions.maxExtensionSeconds <= 0) {
    add("extensions.maxExtensionSeconds", "must be positive when extensions are allowed");
  }
  return problems;
}
