import { livePolicyFingerprint, planBucketPolicy } from "@keyturn/bucket-policy";
import type {
  BucketPolicyPlan,
  BucketPolicyResult,
  BucketPolicyS3Deps,
  BucketPolicySpec,
  BucketSessionCutoff,
  GeneratedBucketPolicy,
  ProtectedBucketRecord,
} from "./bucket-policy-ports.js";
import {
  bucketNotFound,
  cutoffsFor,
  desiredPolicy,
  failure,
  planFailure,
  policyHash,
} from "./bucket-policy-support.js";

export type BucketDrift = {
  /** The live policy differs from the one Keyturn last applied; false until it first applies. */
  detected: boolean;
  expectedHash: string | null;
  liveHash: string | null;
  lastAppliedAt: Date | null;
  lastDriftCheckAt: Date | null;
};

export type BucketPolicyPreview = {
  bucket: string;
  spec: BucketPolicySpec;
  sessionCutoffs: BucketSessionCutoff[];
  generated: GeneratedBucketPolicy;
  /** The policy in S3 as it is stored there; null when the bucket has none. */
  live: string | null;
  /** What applying would do (keeping foreign statements unless `dropForeign`). */
  plan: BucketPolicyPlan;
  drift: BucketDrift;
};

/** Compares the bucket's live policy with the one Keyturn would apply, without changing anything. */
export async function previewBucketPolicy(
  deps: BucketPolicyS3Deps,
  input: { name: string; dropForeign?: boolean },
): Promise<BucketPolicyResult<BucketPolicyPreview>> {
  const now = deps.clock.now();
  const loaded = await deps.uow.run(async (tx) => {
    const record = await tx.buckets.find(input.name);
    return record === null ? null : { record, active: await tx.cutoffs.active(now) };
  });
  if (loaded === null) {
    return bucketNotFound(input.name);
  }
  const { record } = loaded;
  const sessionCutoffs = cutoffsFor(record.spec, loaded.active);
  const generated = desiredPolicy(record.spec, sessionCutoffs);
  if (!generated.ok) {
    return generated;
  }
  const live = await deps.store.getPolicy(input.name);
  const plan = planBucketPolicy({
    live,
    generated: generated.value.policy,
    dropForeign: input.dropForeign === true,
  });
  if (!plan.ok) {
    return { ok: false, error: planFailure(plan.error) };
  }
  const drift = driftOf(record, live);
  if (!drift.ok) {
    return drift;
  }
  return {
    ok: true,
    value: {
      bucket: input.name,
      spec: record.spec,
      sessionCutoffs,
      generated: generated.value,
      live,
      plan: plan.value,
      drift: drift.value,
    },
  };
}

/** Drift is judged against what Keyturn last applied, so foreign statements it kept are not drift. */
export function driftOf(record: ProtectedBucketRecord, live: string | null): BucketPolicyResult<BucketDrift> {
  const fingerprint = livePolicyFingerprint(live);
  if (!fingerprint.ok) {
    return failure("INVALID_LIVE_POLICY", fingerprint.error.message);
  }
  const liveHash = policyHash(fingerprint.value);
  return {
    ok: true,
    value: {
      detected: record.lastAppliedHash !== null && liveHash !== record.lastAppliedHash,
      expectedHash: record.lastAppliedHash,
      liveHash,
      lastAppliedAt: record.lastAppliedAt,
      lastDriftCheckAt: record.lastDriftCheckAt,
    },
  };
}
