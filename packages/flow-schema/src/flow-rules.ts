import type { FlowRules } from "@keyturn/core";
import { z } from "zod";

/** A flow's name, as it appears in URLs and in flow files. */
export const FlowNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    "must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
  );

// Longest durations we accept anywhere; the columns are 32-bit integers and a year is plenty.
const MAX_SECONDS = 366 * 24 * 3600;

export const SecondsSchema = z
  .number()
  .int("must be a whole number of seconds")
  .positive("must be a positive number of seconds")
  .max(MAX_SECONDS, `must be at most ${MAX_SECONDS} seconds`);

const AccountIdSchema = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");

/** IAM Identity Center's own rule for permission set names. */
const PermissionSetNameSchema = z
  .string()
  .regex(/^[\w+=,.@-]{1,32}$/, "must be 1-32 characters of letters, digits and +=,.@_-");

export const FlowTargetSchema = z.strictObject({
  accountId: AccountIdSchema,
  permissionSetName: PermissionSetNameSchema,
});

const PrincipalSelectorSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("anyone") }),
  z.strictObject({ kind: z.literal("email"), email: z.email("must be an email address") }),
  z.strictObject({
    kind: z.literal("slack_user"),
    id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/, "must be a Slack user id (U… or W…)"),
  }),
  z.strictObject({
    kind: z.literal("slack_group"),
    id: z.string().regex(/^S[A-Z0-9]{2,20}$/, "must be a Slack user group id (S…)"),
  }),
]);

const TextRuleSchema = z.strictObject({
  required: z.boolean(),
  // Compiled (anchored) by core; checkFlowRules reports patterns that do not compile.
  pattern: z.string().min(1).max(500).exactOptional(),
});

// Provider ids and keys are checked in detail by core (checkOnCallRule, checkTicketRequirement).
const ProviderIdsSchema = z.array(z.string().min(1).max(64)).max(50);

/** On-call auto-approval (core's OnCallApproval): PagerDuty schedules and escalation policies. */
const OnCallApprovalSchema = z.strictObject({
  provider: z.literal("pagerduty"),
  schedules: ProviderIdsSchema,
  escalationPolicies: ProviderIdsSchema,
  capToShift: z.boolean().exactOptional(),
  minGrantSeconds: SecondsSchema.exactOptional(),
  maxEscalationLevel: z.number().int().min(1).max(20).exactOptional(),
  maxGrantSeconds: SecondsSchema.exactOptional(),
});

/** What a checked ticket must be (core's TicketRequirement). */
const TicketRequirementSchema = z.strictObject({
  provider: z.enum(["jira", "linear"]),
  projects: z.array(z.string().min(1).max(255)).max(100).exactOptional(),
  states: z.array(z.string().min(1).max(100)).max(50).exactOptional(),
  assignedToRequester: z.boolean().exactOptional(),
});

const TicketRuleSchema = TextRuleSchema.extend({ check: TicketRequirementSchema.exactOptional() });

/**
 * Mirrors core's FlowRules field by field (the assertions below keep them in step). Shape and
 * ranges are checked here; the rules' consistency with each other (default <= max, enough
 * approvers, ...) is core's `checkFlowRules`, run by the putFlow use case.
 */
export const FlowRulesSchema = z.strictObject({
  title: z.string().trim().min(1).max(200),
  description: z.string().max(2000).exactOptional(),
  targets: z.array(FlowTargetSchema).min(1, "a flow needs at least one target").max(200),
  requesters: z
    .array(PrincipalSelectorSchema)
    .min(1, "name who may request (use {kind: 'anyone'} for everyone)")
    .max(200),
  approvers: z.array(PrincipalSelectorSchema).max(200),
  approvalsRequired: z.number().int().min(1, "must be at least 1").max(20),
  selfApproval: z.boolean(),
  autoApprove: z.boolean(),
  onCallApproval: OnCallApprovalSchema.exactOptional(),
  breakGlass: z.boolean(),
  defaultDurationSeconds: SecondsSchema,
  maxDurationSeconds: SecondsSchema,
  minDurationSeconds: SecondsSchema.exactOptional(),
  /** When set, the only durations the flow grants (core's offeredDurations/durationProblem). */
  offeredDurationsSeconds: z.array(SecondsSchema).min(1).max(50).exactOptional(),
  reason: TextRuleSchema,
  ticket: TicketRuleSchema,
  pendingTimeoutSeconds: SecondsSchema,
  extensions: z.strictObject({
    maxCount: z.number().int().min(0).max(100),
    maxExtensionSeconds: z.number().int().min(0).max(MAX_SECONDS),
    requiresApproval: z.boolean(),
  }),
  approvalChannel: z
    .string()
    .regex(/^[CG][A-Z0-9]{2,20}$/, "must be a Slack channel id (C… or G…)")
    .exactOptional(),
  drift: z.enum(["report", "remove"]).exactOptional(),
});

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
// Compile-time guard: if core's FlowRules gains, loses or retypes a field, this stops compiling.
type _SchemaMirrorsCore = [
  Assert<Equals<z.output<typeof FlowRulesSchema>, FlowRules>>,
  Assert<Equals<z.input<typeof FlowRulesSchema>, FlowRules>>,
];
