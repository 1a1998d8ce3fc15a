import type { ProtectedBucket } from "@keyturn/db";
import {
  BUCKET_CAPABILITIES,
  type BucketAccessReport,
  type BucketPolicyPlan,
  type BucketPolicySpec,
  type DiffSummary,
  type PolicyPrincipal,
} from "@keyturn/usecases";
import { z } from "zod";
import { iso } from "../../schemas/common.js";

const BucketNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 of a-z, 0-9, '.', '-')");

export const BucketParamsSchema = z.strictObject({ name: BucketNameSchema });

const PrincipalRefSchema = z.union([
  z.strictObject({ roleArn: z.string().meta({ description: "An IAM role ARN, matched exactly" }) }),
  z.strictObject({
    permissionSet: z.string().meta({ description: "An Identity Center permission set name" }),
    accountId: z.string().optional().meta({ description: "Default: the spec's accountId" }),
  }),
]);

// Capability names and principals are checked by the policy engine, which reports every problem
// with its path; this schema only fixes the shape.
export const BucketSpecBodySchema = z
  .strictObject({
    accountId: z
      .string()
      .optional()
      .meta({ description: "The bucket's account; default account of permission sets" }),
    capabilities: z.record(z.string(), z.array(PrincipalRefSchema)).meta({
      description: `Who holds each capability: ${BUCKET_CAPABILITIES.join(", ")}`,
    }),
    kmsRequired: z.boolean().optional().meta({ description: "Deny uploads without SSE-KMS (default true)" }),
    kmsKeyArn: z.string().optional().meta({
      description:
        "The KMS key ARN every upload must use: naming another key, or SSE-KMS without a key id, is denied; the bucket's default encryption must be this key",
    }),
  })
  .meta({ id: "BucketSpec", description: "Which principals hold which k9 capability on the bucket" });

const SpecSchema = z.object({
  bucket: z.string(),
  accountId: z.string().optional(),
  capabilities: z.record(z.string(), z.array(PrincipalRefSchema)),
  kmsRequired: z.boolean().optional(),
  kmsKeyArn: z.string().optional(),
});

export const BucketViewSchema = z
  .object({
    name: z.string(),
    accountId: z.string().nullable(),
    spec: SpecSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    lastAppliedHash: z.string().nullable(),
    lastAppliedAt: z.string().nullable(),
    lastDriftCheckAt: z.string().nullable(),
    driftDetected: z.boolean(),
  })
  .meta({ id: "ProtectedBucket", description: "A bucket whose policy Keyturn manages" });

export function toBucketViewJson(row: ProtectedBucket): z.infer<typeof BucketViewSchema> {
  // Stored only by putProtectedBucket, from a spec the policy engine validated.
  const spec = row.spec as unknown as BucketPolicySpec;
  return {
    name: row.name,
    accountId: row.accountId,
    spec: {
      bucket: spec.bucket,
      ...(spec.accountId === undefined ? {} : { accountId: spec.accountId }),
      capabilities: Object.fromEntries(
        Object.entries(spec.capabilities).map(([name, refs]) => [name, [...(refs ?? [])]]),
      ),
      ...(spec.kmsRequired === undefined ? {} : { kmsRequired: spec.kmsRequired }),
      ...(spec.kmsKeyArn === undefined ? {} : { kmsKeyArn: spec.kmsKeyArn }),
    },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastAppliedHash: row.lastAppliedHash,
    lastAppliedAt: iso(row.lastAppliedAt),
    lastDriftCheckAt: iso(row.lastDriftCheckAt),
    driftDetected: row.driftDetected,
  };
}

const StatementSchema = z.record(z.string(), z.unknown()).meta({ description: "An IAM policy statement" });
const PolicySchema = z.object({
  Version: z.string().optional(),
  Id: z.string().optional(),
  Statement: z.array(StatementSchema),
});
const SessionCutoffSchema = z.object({
  identityStoreUserId: z.string(),
  accountId: z.string(),
  permissionSet: z.string(),
  until: z.string(),
  issuedBefore: z.string().optional(),
  closedAt: z.string().optional(),
  from: z
    .string()
    .optional()
    .meta({ description: "Pre-armed: S3 refuses from this instant (the grant's end) by its own clock" }),
});

const SidList = z.array(z.string());

export const DiffSchema = z
  .object({
    added: z.array(z.object({ sid: z.string(), statement: StatementSchema })),
    removed: z.array(z.object({ sid: z.string(), statement: StatementSchema })),
    changed: z.array(z.object({ sid: z.string(), live: StatementSchema, generated: StatementSchema })),
    unchanged: SidList,
    foreign: z
      .array(z.object({ index: z.number().int(), sid: z.string().nullable(), statement: StatementSchema }))
      .meta({ description: "Statements someone else added: kept on apply unless dropForeign" }),
  })
  .meta({ id: "BucketPolicyDiff", description: "Keyturn's statements by Sid, live vs generated" });

export const DiffSummarySchema = z.object({
  added: SidList,
  removed: SidList,
  changed: SidList,
  foreign: z.array(z.string().nullable()),
  droppedForeign: z.array(z.string().nullable()),
});

export function toDiffJson(plan: BucketPolicyPlan): z.infer<typeof DiffSchema> {
  const { added, removed, changed, unchanged, foreign } = plan.diff;
  return {
    added: added.map(({ sid, statement }) => ({ sid, statement: { ...statement } })),
    removed: removed.map(({ sid, statement }) => ({ sid, statement: { ...statement } })),
    changed: changed.map(({ sid, live, generated }) => ({
      sid,
      live: { ...live },
      generated: { ...generated },
    })),
    unchanged,
    foreign: foreign.map(({ index, sid, statement }) => ({ index, sid, statement: { ...statement } })),
  };
}

export const PolicyViewSchema = z
  .object({
    bucket: z.string(),
    inSync: z.boolean().meta({ description: "Keyturn's statements in S3 are exactly the generated ones" }),
    changesLive: z
      .boolean()
      .meta({ description: "Applying (keeping foreign statements) would change the policy" }),
    drift: z.object({
      detected: z
        .boolean()
        .meta({ description: "The live policy differs from the one Keyturn last applied" }),
      recorded: z.boolean().meta({ description: "What the last drift check recorded" }),
      expectedHash: z.string().nullable(),
      liveHash: z.string().nullable(),
      lastAppliedAt: z.string().nullable(),
      lastDriftCheckAt: z.string().nullable(),
    }),
    diff: DiffSchema,
    sessionCutoffs: z.array(SessionCutoffSchema),
    live: PolicySchema.nullable(),
    generated: z.object({ policy: PolicySchema, bytes: z.number().int() }),
    toApply: z.object({ policy: PolicySchema, bytes: z.number().int() }),
  })
  .meta({
    id: "BucketPolicyView",
    description: "The bucket's live policy against the one Keyturn generates",
  });

export const GeneratedPolicyViewSchema = z
  .object({
    bucket: z.string(),
    policy: PolicySchema,
    bytes: z.number().int(),
    sessionCutoffs: z.array(SessionCutoffSchema),
    cutoffLayout: z.object({
      listed: z.number().int(),
      prearmed: z.number().int().meta({ description: "Cut-offs written ahead of their grant's end" }),
      prearmDeferred: z
        .number()
        .int()
        .meta({ description: "Pre-armed cut-offs left out for room: armed at their grant's end instead" }),
      roleWide: z.array(
        z.object({
          accountId: z.string(),
          permissionSet: z.string(),
          fold: z.enum(["closed", "all"]),
          issuedBefore: z.string().nullable(),
          cutoffs: z.number().int(),
        }),
      ),
    }),
    sessionCutoffCapacity: z
      .number()
      .int()
      .meta({ description: "How many cut-offs of one set fit listed by user; beyond, they fold role-wide" }),
  })
  .meta({ id: "GeneratedBucketPolicy", description: "The policy Keyturn would apply, computed without S3" });

export const ApplyBodySchema = z.strictObject({
  confirm: z.literal(true, { error: "must be true: applying replaces the bucket's policy" }),
  dropForeign: z
    .boolean()
    .default(false)
    .meta({ description: "Also remove the statements Keyturn did not write (default: keep them)" }),
});

export const ApplyResultSchema = z
  .object({
    bucket: z.string(),
    put: z.boolean().meta({ description: "PutBucketPolicy was sent (false: the policy already meant this)" }),
    hash: z.string(),
    bytes: z.number().int(),
    diff: DiffSummarySchema,
  })
  .meta({ id: "BucketPolicyApplied" });

export function toSummaryJson(summary: DiffSummary): z.infer<typeof DiffSummarySchema> {
  return summary;
}

const PrincipalSchema = z
  .union([
    z.object({ kind: z.literal("permission-set"), accountId: z.string(), name: z.string() }),
    z.object({ kind: z.literal("arn"), arn: z.string() }),
    z.object({ kind: z.literal("session"), arn: z.string() }),
    z.object({ kind: z.literal("pattern"), pattern: z.string() }),
    z.object({ kind: z.literal("account"), accountId: z.string() }),
    z.object({ kind: z.literal("anyone") }),
    z.object({ kind: z.literal("anonymous") }),
  ])
  .meta({ id: "PolicyPrincipal" });

const HolderSchema = z.object({
  email: z.string(),
  identityStoreUserId: z.string().nullable(),
  source: z.enum(["lease", "preexisting"]),
  requestId: z.string().nullable(),
  until: z.string().nullable(),
});

export const AccessReportSchema = z
  .object({
    bucket: z.string(),
    at: z.string(),
    policyPresent: z.boolean(),
    capabilities: z.array(
      z.object({
        capability: z.enum(BUCKET_CAPABILITIES),
        grants: z.array(
          z.object({
            principal: PrincipalSchema,
            actions: z.array(z.string()),
            allActions: z.boolean(),
            grantedBy: SidList,
            extra: z.boolean().meta({
              description:
                "Not (only) a Keyturn-granted permission set: an exact role, a pattern or a foreign statement",
            }),
            holders: z.array(HolderSchema).nullable().meta({
              description: "For a permission set: who holds it right now (active lease or preexisting)",
            }),
          }),
        ),
        shadowed: z.array(
          z.object({
            principal: PrincipalSchema,
            actions: z.array(z.string()),
            grantedBy: SidList,
            deniedBy: SidList,
          }),
        ),
        openThroughIdentityPolicies: z.array(PrincipalSchema).meta({
          description: "Principals not granted the capability that an identity policy could still give it to",
        }),
        undetermined: z
          .array(
            z.object({
              principal: PrincipalSchema,
              actions: z.array(z.string()),
              statements: z.array(z.object({ statement: z.string(), reason: z.string() })),
            }),
          )
          .meta({
            description:
              "Actions whose outcome AWS's documentation does not decide: undetermined, with the statements and why",
          }),
      }),
    ),
    unanalyzed: z.array(z.object({ statement: z.string(), reason: z.string() })),
    sessionCutoffs: z.array(SessionCutoffSchema),
  })
  .meta({ id: "BucketAccessReport", description: "Who can do what on the bucket right now" });

const principalJson = (principal: PolicyPrincipal): z.infer<typeof PrincipalSchema> => ({ ...principal });

export function toAccessReportJson(report: BucketAccessReport): z.infer<typeof AccessReportSchema> {
  return {
    bucket: report.bucket,
    at: report.at.toISOString(),
    policyPresent: report.policyPresent,
    capabilities: report.capabilities.map((capability) => ({
      capability: capability.capability,
      grants: capability.grants.map((grant) => ({
        principal: principalJson(grant.principal),
        actions: grant.actions,
        allActions: grant.allActions,
        grantedBy: grant.grantedBy,
        extra: grant.extra,
        holders:
          grant.holders === null
            ? null
            : grant.holders.map((holder) => ({ ...holder, until: iso(holder.until) })),
      })),
      shadowed: capability.shadowed.map((entry) => ({ ...entry, principal: principalJson(entry.principal) })),
      openThroughIdentityPolicies: capability.openThroughIdentityPolicies.map(principalJson),
      undetermined: capability.undetermined.map((entry) => ({
        principal: principalJson(entry.principal),
        actions: entry.actions,
        statements: entry.statements,
      })),
    })),
    unanalyzed: report.unanalyzed,
    sessionCutoffs: report.sessionCutoffs,
  };
}
