import type { BucketPolicyPlan, BucketPolicyResult, BucketPolicyS3Deps } from "./bucket-policy-ports.js";
import {
  bucketNotFound,
  cutoffsFor,
  type DiffSummary,
  defaultEncryptionProblem,
  desiredPolicy,
  failure,
  planFailure,
  policyHash,
} from "./bucket-policy-support.js";
import type { AuditActor } from "./ports.js";

export type BucketPolicyApplied = {
  bucket: string;
  /** PutBucketPolicy was sent: the live policy meant something else before. */
  put: boolean;
  /** An applied event was recorded (a put, or a first sighting of a policy already in place). */
  recorded: boolean;
  hash: string;
  bytes: number;
  summary: DiffSummary;
  plan: BucketPolicyPlan;
};

/**
 * Generates the bucket's policy (spec + cut-offs in force), merges it with the live one and puts
 * it. Foreign statements are kept unless `dropForeign`. Idempotent: when the live policy already
 * means the same, nothing is sent and nothing recorded.
 *
 * The S3 calls happen while the bucket's row is locked, so two applies (an admin's and a cut-off's)
 * cannot interleave their read-modify-write and lose a statement.
 */
export async function applyBucketPolicy(
  deps: BucketPolicyS3Deps,
  input: {
    name: string;
    dropForeign?: boolean;
    by: AuditActor;
    reason: string;
    /**
     * Refuse unless the bucket's default encryption backs the storage denies (default true). A
     * cut-off passes false: ending access must not wait on an encryption setting that the
     * applies before it already checked.
     */
    checkDefaultEncryption?: boolean;
  },
): Promise<BucketPolicyResult<BucketPolicyApplied>> {
  return deps.uow.run(async (tx): Promise<BucketPolicyResult<BucketPolicyApplied>> => {
    const now = deps.clock.now();
    const record = await tx.buckets.lock(input.name);
    if (record === null) {
      return bucketNotFound(input.name);
    }
    const sessionCutoffs = cutoffsFor(deps.engine, record.spec, await tx.cutoffs.active(now));
    const generated = desiredPolicy(deps.engine, record.spec, sessionCutoffs);
    if (!generated.ok) {
      return generated;
    }
    if (input.checkDefaultEncryption !== false && record.spec.kmsRequired !== false) {
      const encryption = await deps.store.getEncryption(input.name);
      const problem = defaultEncryptionProblem(input.name, record.spec, encryption);
      if (problem !== undefined) {
        return failure("BUCKET_NOT_KMS_ENCRYPTED", problem, { defaultEncryption: encryption });
      }
    }
    const live = await deps.store.getPolicy(input.name);
    const planned = deps.engine.plan({
      live,
      generated: generated.value.policy,
      dropForeign: input.dropForeign === true,
    });
    if (!planned.ok) {
      return { ok: false, error: planFailure(planned.error) };
    }
    const plan = planned.value;
    const fingerprint = deps.engine.fingerprint(plan.merged.json);
    const hash = fingerprint.ok ? policyHash(fingerprint.value) : null;
    if (hash === null) {
      return failure("INVALID_LIVE_POLICY", "the merged policy could not be read back");
    }
    const summary = summarize(plan);
    const liveFingerprint = deps.engine.fingerprint(live);
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
    if (recorded) {
      await tx.buckets.recordApplied({ name: input.name, hash, at: now });
      await tx.audit.append({
        actor: input.by,
        action: "bucket_policy.applied",
        data: {
          bucket: input.name,
          hash,
          bytes: plan.merged.bytes,
          put: plan.changesLive,
          reason: input.reason,
          sessionCutoffs: sessionCutoffs.map((cutoff) => cutoff.identityStoreUserId),
          diff: summary,
        },
      });
    }
    return {
      ok: true,
      value: {
        bucket: input.name,
        put: plan.changesLive,
        recorded,
        hash,
        bytes: plan.merged.bytes,
        summary,
        plan,
      },
    };
  });
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
