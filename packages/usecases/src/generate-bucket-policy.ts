import { sessionCutoffCapacity } from "@keyturn/bucket-policy";
import type {
  BucketPolicyDeps,
  BucketPolicyResult,
  BucketPolicySpec,
  BucketSessionCutoff,
  CutoffLayout,
  GeneratedBucketPolicy,
} from "./bucket-policy-ports.js";
import { bucketNotFound, cutoffsFor, desiredPolicy } from "./bucket-policy-support.js";

export type GeneratedBucketPolicyView = {
  bucket: string;
  spec: BucketPolicySpec;
  sessionCutoffs: BucketSessionCutoff[];
  generated: GeneratedBucketPolicy & { cutoffs: CutoffLayout };
  /** How many cut-offs of one set fit listed by user in this policy. */
  capacity: number;
};

/**
 * The policy Keyturn would apply to the bucket (its spec and the cut-offs in force), without
 * reading S3: what an operator puts by hand when Keyturn cannot read or write the bucket's current
 * policy yet (onboarding a bucket whose policy does not let Keyturn in).
 */
export async function generateBucketPolicy(
  deps: BucketPolicyDeps,
  input: { name: string },
): Promise<BucketPolicyResult<GeneratedBucketPolicyView>> {
  const now = deps.clock.now();
  const loaded = await deps.uow.run(async (tx) => {
    const record = await tx.buckets.find(input.name);
    return record === null ? null : { record, active: await tx.cutoffs.active(now) };
  });
  if (loaded === null) {
    return bucketNotFound(input.name);
  }
  const { spec } = loaded.record;
  const sessionCutoffs = cutoffsFor(spec, loaded.active);
  const generated = desiredPolicy(spec, sessionCutoffs);
  if (!generated.ok) {
    return generated;
  }
  return {
    ok: true,
    value: {
      bucket: input.name,
      spec,
      sessionCutoffs,
      generated: generated.value,
      capacity: sessionCutoffCapacity(spec),
    },
  };
}
