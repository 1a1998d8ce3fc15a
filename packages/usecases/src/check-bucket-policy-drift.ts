import { planBucketPolicy } from "@keyturn/bucket-policy";
import { AppError } from "./app-error.js";
import { summarize } from "./apply-bucket-policy.js";
import type { BucketPolicyS3Deps, ProtectedBucketRecord } from "./bucket-policy-ports.js";
import { cutoffsFor, type DiffSummary, desiredPolicy } from "./bucket-policy-support.js";
import { driftOf } from "./preview-bucket-policy.js";
import { SYSTEM } from "./principal.js";

export type BucketDriftReport =
  | {
      bucket: string;
      /** `not_applied`: Keyturn never applied a policy here, so there is nothing to drift from. */
      status: "in_sync" | "drift" | "not_applied";
      expectedHash: string | null;
      liveHash: string | null;
      /** Audited by this check: drift first seen, or the live policy changed again while drifted. */
      newlyDetected: boolean;
      /** Drift recorded earlier is gone (someone put the policy back, or Keyturn re-applied). */
      resolved: boolean;
      /** Keyturn's statements that differ from the generated ones, and the foreign statements. */
      diff: DiffSummary | null;
    }
  | { bucket: string; status: "error"; error: { code: string; message: string; retryable: boolean } };

/**
 * The sweep's drift check: has someone changed a protected bucket's policy since Keyturn applied
 * it? (Whoever holds s3:PutBucketPolicy can rewrite the rules; reference section 7.) Records the
 * answer on the bucket and audits `bucket_policy.drift_detected` once per drifted version of the
 * policy, and `bucket_policy.drift_resolved` when it is gone. Reports, never repairs: re-applying
 * is an admin's decision. One bucket's failure (S3 refusing, say) does not stop the others.
 */
export async function checkBucketPolicyDrift(
  deps: BucketPolicyS3Deps,
  input: { name?: string } = {},
): Promise<{ buckets: BucketDriftReport[] }> {
  const records = await deps.uow.run(async (tx) => {
    if (input.name === undefined) {
      return tx.buckets.list();
    }
    const record = await tx.buckets.find(input.name);
    return record === null ? [] : [record];
  });
  const buckets: BucketDriftReport[] = [];
  for (const record of records) {
    try {
      buckets.push(await checkOne(deps, record));
    } catch (error) {
      if (!(error instanceof AppError)) {
        throw error;
      }
      buckets.push({
        bucket: record.name,
        status: "error",
        error: { code: error.code, message: error.message, retryable: error.retryable },
      });
    }
  }
  return { buckets };
}

async function checkOne(deps: BucketPolicyS3Deps, seen: ProtectedBucketRecord): Promise<BucketDriftReport> {
  return deps.uow.run(async (tx): Promise<BucketDriftReport> => {
    const now = deps.clock.now();
    // The live policy is read under the bucket's lock, like an apply's: read before it, a policy
    // a concurrent apply was replacing would pass for drift.
    const record = (await tx.buckets.lock(seen.name)) ?? seen;
    const live = await deps.store.getPolicy(seen.name);
    const drift = driftOf(record, live);
    if (!drift.ok) {
      throw new AppError("INVALID_LIVE_POLICY", drift.error.message, { retryable: false });
    }
    const { detected, liveHash, expectedHash } = drift.value;
    const generated = desiredPolicy(record.spec, cutoffsFor(record.spec, await tx.cutoffs.active(now)));
    const plan = generated.ok ? planBucketPolicy({ live, generated: generated.value.policy }) : undefined;
    const diff = plan?.ok === true ? summarize(plan.value) : null;
    const newlyDetected = detected && (!record.driftDetected || record.lastSeenHash !== liveHash);
    const resolved = !detected && record.driftDetected;
    await tx.buckets.recordDriftCheck({ name: record.name, at: now, driftDetected: detected, liveHash });
    if (newlyDetected) {
      await tx.audit.append({
        actor: SYSTEM,
        action: "bucket_policy.drift_detected",
        data: { bucket: record.name, expectedHash, liveHash, diff },
      });
    }
    if (resolved) {
      await tx.audit.append({
        actor: SYSTEM,
        action: "bucket_policy.drift_resolved",
        data: { bucket: record.name, liveHash },
      });
    }
    return {
      bucket: record.name,
      status: expectedHash === null ? "not_applied" : detected ? "drift" : "in_sync",
      expectedHash,
      liveHash,
      newlyDetected,
      resolved,
      diff,
    };
  });
}
