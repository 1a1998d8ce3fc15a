import { livePolicyFingerprint, planBucketPolicy } from "@keyturn/bucket-policy";
import { AppError } from "./app-error.js";
import type {
  BucketPolicyPlan,
  BucketPolicyResult,
  BucketPolicyS3Deps,
  CutoffLayout,
  PolicyDocumentJson,
} from "./bucket-policy-ports.js";
import {
  bucketNotFound,
  cutoffsFor,
  type DiffSummary,
  defaultEncryptionProblem,
  desiredPolicy,
  failure,
  foreignBytes,
  planFailure,
  policyHash,
} from "./bucket-policy-support.js";
import { checkLockout } from "./keyturn-principal.js";
import type { AuditActor } from "./ports.js";

export type BucketPolicyApplied = {
  bucket: string;
  /** PutBucketPolicy was sent: the live policy meant something else before. */
  put: boolean;
  /** An applied event was recorded (a put, or a first sighting of a policy already in place). */
  recorded: boolean;
  /**
   * A put was needed but the bucket's last one was less than `minIntervalMs` ago: nothing was
   * sent; apply again at this instant (the change stays marked as wanted).
   */
  deferredUntil: Date | null;
  hash: string;
  bytes: number;
  summary: DiffSummary;
  plan: BucketPolicyPlan;
  /** How the session cut-offs were written; `roleWide` is the overflow. */
  cutoffs: CutoffLayout;
  /** Cut-offs in force that concern the bucket. */
  sessionCutoffs: number;
};

export type ApplyBucketPolicyInput = {
  name: string;
  dropForeign?: boolean;
  by: AuditActor;
  reason: string;
  minIntervalMs?: number;
  /**
   * Refuse unless the bucket's default encryption backs the storage denies (default true). A
   * cut-off passes false: ending access must not wait on an encryption setting that the
   * applies before it already checked.
   */
  checkDefaultEncryption?: boolean;
};

/**
 * Generates the bucket's policy (spec + cut-offs in force), merges it with the live one and puts
 * it. Foreign statements are kept unless `dropForeign`; the cut-offs fold into role-wide denies
 * rather than push the policy over S3's limit. Idempotent: when the live policy already means the
 * same, nothing is sent and nothing recorded.
 *
 * - The S3 calls happen while the bucket's row is locked, so two applies (an admin's and a
 *   cut-off's) cannot interleave their read-modify-write and lose a statement.
 * - `minIntervalMs`: puts to one bucket at least this far apart (the worker's cut-off applies
 *   use 1 s); a put that would come sooner is deferred, not sent.
 * - A policy that would stop Keyturn's own principal from reading or writing it is never put.
 * - When S3 refuses, its policy stays as it was (and with it every cut-off already there), the
 *   failure is kept on the bucket and audited, and the error is rethrown for the caller to retry.
 */
export async function applyBucketPolicy(
  deps: BucketPolicyS3Deps,
  input: ApplyBucketPolicyInput,
): Promise<BucketPolicyResult<BucketPolicyApplied>> {
  const startedAt = deps.clock.now();
  try {
    return await deps.uow.run((tx) => applyLocked(deps, tx, input));
  } catch (error) {
    if (error instanceof AppError) {
      await recordFailure(deps, input, error, startedAt);
    }
    throw error;
  }
}

async function applyLocked(
  deps: BucketPolicyS3Deps,
  tx: Parameters<Parameters<BucketPolicyS3Deps["uow"]["run"]>[0]>[0],
  input: ApplyBucketPolicyInput,
): Promise<BucketPolicyResult<BucketPolicyApplied>> {
  const now = deps.clock.now();
  const record = await tx.buckets.lock(input.name);
  if (record === null) {
    return bucketNotFound(input.name);
  }
  const lockout = await checkLockout(deps, record.spec);
  if (!lockout.ok) {
    return lockout;
  }
  if (input.checkDefaultEncryption !== false && record.spec.kmsRequired !== false) {
    const encryption = await deps.store.getEncryption(input.name);
    const problem = defaultEncryptionProblem(input.name, record.spec, encryption);
    if (problem !== undefined) {
      return failure("BUCKET_NOT_KMS_ENCRYPTED", problem, { defaultEncryption: encryption });
    }
  }
  const sessionCutoffs = cutoffsFor(record.spec, await tx.cutoffs.active(now));
  const live = await deps.store.getPolicy(input.name);
  const dropForeign = input.dropForeign === true;
  // Generated once to learn which foreign statements the live policy holds, then (if there are
  // any to keep) again with room left for them, so the cut-offs fold instead of the apply failing.
  let generated = desiredPolicy(record.spec, sessionCutoffs);
  if (!generated.ok) {
    return generated;
  }
  let planned = planBucketPolicy({ live, generated: generated.value.policy, dropForeign });
  const reserve = planned.ok && !dropForeign ? foreignBytes(planned.value.diff.foreign) : 0;
  if (reserve > 0 || (!planned.ok && planned.error.code === "POLICY_TOO_LARGE")) {
    const foreign = planned.ok ? reserve : foreignBytesOf(live, generated.value.policy);
    generated = desiredPolicy(record.spec, sessionCutoffs, foreign);
    if (!generated.ok) {
      return generated;
    }
    planned = planBucketPolicy({ live, generated: generated.value.policy, dropForeign });
  }
  if (!planned.ok) {
    return { ok: false, error: planFailure(planned.error) };
  }
  const plan = planned.value;
  const layout = generated.value.cutoffs;
  const fingerprint = livePolicyFingerprint(plan.merged.json);
  const hash = fingerprint.ok ? policyHash(fingerprint.value) : null;
  if (hash === null) {
    return failure("INVALID_LIVE_POLICY", "the merged policy could not be read back");
  }
  const summary = summarize(plan);
  const result = (put: boolean, recorded: boolean, deferredUntil: Date | null) => ({
    ok: true as const,
    value: {
      bucket: input.name,
      put,
      recorded,
      deferredUntil,
      hash,
      bytes: plan.merged.bytes,
      summary,
      plan,
      cutoffs: layout,
      sessionCutoffs: sessionCutoffs.length,
    },
  });
  const interval = input.minIntervalMs ?? 0;
  if (
    plan.changesLive &&
    record.lastPutAt !== null &&
    now.getTime() - record.lastPutAt.getTime() < interval
  ) {
    return result(false, false, new Date(record.lastPutAt.getTime() + interval));
  }
  const liveFingerprint = livePolicyFingerprint(live);
  const liveHash = liveFingerprint.ok ? policyHash(liveFingerprint.value) : null;
  const drifted = record.lastAppliedHash !== null && liveHash !== record.lastAppliedHash;
  if (drifted && plan.changesLive && !(record.driftDetected && record.lastSeenHash === liveHash)) {
    // Overwriting a policy someone changed behind Keyturn's back: say so before it is gone,
    // once, as the drift check would have.
    await tx.audit.append({
      actor: input.by,
      action: "bucket_policy.drift_detected",
      data: {
        bucket: input.name,
        expectedHash: record.lastAppliedHash,
        liveHash,
        diff: summary,
        overwrittenBy: input.reason,
      },
    });
  }
  if (plan.changesLive) {
    await deps.store.putPolicy(input.name, plan.merged.json);
  }
  const recorded = plan.changesLive || record.lastAppliedHash !== hash;
  await tx.buckets.recordApplied({
    name: input.name,
    hash,
    at: deps.clock.now(),
    put: plan.changesLive,
    readAt: now,
    cutoffsRoleWide: layout.roleWide.reduce((sum, set) => sum + set.cutoffs, 0),
  });
  if (recorded) {
    await tx.audit.append({
      actor: input.by,
      action: "bucket_policy.applied",
      data: {
        bucket: input.name,
        hash,
        bytes: plan.merged.bytes,
        put: plan.changesLive,
        reason: input.reason,
        sessionCutoffs: sessionCutoffs.map((cutoff) => ({
          identityStoreUserId: cutoff.identityStoreUserId,
          accountId: cutoff.accountId,
          permissionSet: cutoff.permissionSet,
          until: cutoff.until,
          ...(cutoff.issuedBefore === undefined ? {} : { issuedBefore: cutoff.issuedBefore }),
          ...(cutoff.from === undefined ? {} : { from: cutoff.from }),
        })),
        cutoffLayout: layout,
        diff: summary,
      },
    });
  }
  if (layout.roleWide.length > 0 && plan.changesLive) {
    // The overflow: every holder of a folded set with an older session is refused too, so the
    // trail names who must sign in again.
    const holders = await Promise.all(
      layout.roleWide.map(async (set) => ({
        ...set,
        mustSignInAgain: (
          await tx.access.holders({ accountId: set.accountId, permissionSetName: set.permissionSet, at: now })
        ).map((holder) => holder.email),
      })),
    );
    await tx.audit.append({
      actor: input.by,
      action: "session_cutoff.overflow",
      data: { bucket: input.name, listed: layout.listed, roleWide: holders },
    });
  }
  return result(plan.changesLive, recorded, null);
}

/** The foreign statements' bytes when the first plan already failed for size. */
function foreignBytesOf(live: string | null, generated: PolicyDocumentJson): number {
  // Planning against an empty generated policy cannot be too large because of Keyturn's part.
  const bare = planBucketPolicy({ live, generated: { ...generated, Statement: [] } });
  return bare.ok ? foreignBytes(bare.value.diff.foreign) : 0;
}

async function recordFailure(
  deps: BucketPolicyS3Deps,
  input: { name: string; by: AuditActor; reason: string },
  error: AppError,
  startedAt: Date,
): Promise<void> {
  const at = deps.clock.now();
  await deps.uow
    .run(async (tx) => {
      await tx.buckets.recordApplyFailure({
        name: input.name,
        at,
        startedAt,
        error: `${error.code}: ${error.message}`,
      });
      await tx.audit.append({
        actor: input.by,
        action: "bucket_policy.apply_failed",
        data: {
          bucket: input.name,
          reason: input.reason,
          code: error.code,
          message: error.message,
          retryable: error.retryable,
        },
      });
    })
    // The apply's own error is what the caller must see; a database down as well is its business.
    .catch(() => undefined);
}

export function summarize(plan: BucketPolicyPlan): DiffSummary {
  return {
    added: plan.diff.added.map((entry) => entry.sid),
    removed: plan.diff.removed.map((entry) => entry.sid),
    changed: plan.diff.changed.map((entry) => entry.sid),
    foreign: plan.diff.foreign.map((entry) => entry.sid),
    droppedForeign: plan.dropped.map((entry) => entry.sid),
  };
}
