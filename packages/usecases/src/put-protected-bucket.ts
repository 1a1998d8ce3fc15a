import { parseBucketSpec, permissionSetsOf } from "@keyturn/bucket-policy";
import { canonicalJson } from "@keyturn/core";
import type { BucketPolicyDeps, BucketPolicyResult, BucketPolicySpec } from "./bucket-policy-ports.js";
import { desiredPolicy, failure } from "./bucket-policy-support.js";
import { checkLockout } from "./keyturn-principal.js";
import type { AuditActor } from "./ports.js";

/**
 * Puts a bucket under Keyturn's protection, or replaces its spec (an idempotent PUT: identical
 * specs change nothing). Only the spec is stored; the policy reaches S3 when someone applies it.
 * Refused (nothing written):
 * - a spec that does not give Keyturn's own principal administer-resource and read-config: once
 *   applied, Keyturn could no longer read or write the policy, and cut-offs would stop landing;
 * - a spec whose policy would not fit S3's limit even with every permission set's cut-offs
 *   folded into one role-wide deny, so that cut-offs can always be applied however many there are.
 */
export async function putProtectedBucket(
  deps: BucketPolicyDeps,
  input: { name: string; spec: Record<string, unknown>; by: AuditActor },
): Promise<BucketPolicyResult<{ spec: BucketPolicySpec; created: boolean; changed: boolean }>> {
  if (input.spec.sessionCutoffs !== undefined) {
    return failure("INVALID_BUCKET_SPEC", "sessionCutoffs are managed by Keyturn and cannot be set", {
      problems: [{ path: "sessionCutoffs", message: "is managed by Keyturn and cannot be set" }],
    });
  }
  if (input.spec.bucket !== undefined && input.spec.bucket !== input.name) {
    return failure("INVALID_BUCKET_SPEC", "the spec names another bucket than the URL", {
      problems: [{ path: "bucket", message: `must be '${input.name}' or left out` }],
    });
  }
  const parsed = parseBucketSpec({ ...input.spec, bucket: input.name });
  if (!parsed.ok) {
    return failure("INVALID_BUCKET_SPEC", parsed.error.message, { problems: parsed.error.problems });
  }
  const spec = parsed.spec;
  const lockout = await checkLockout(deps, spec);
  if (!lockout.ok) {
    return lockout;
  }
  // One cut-off per set is as large as that set's role-wide deny (the most folded form).
  const worstCase = permissionSetsOf(spec).map((set) => ({
    identityStoreUserId: "00000000-0000-0000-0000-000000000000",
    accountId: set.accountId,
    permissionSet: set.name,
    until: "2030-01-01T00:00:00.000Z",
    issuedBefore: "2030-01-01T00:00:00.000Z",
  }));
  const folded = desiredPolicy(spec, worstCase);
  if (!folded.ok) {
    return folded;
  }
  const generated = desiredPolicy(spec, []);
  if (!generated.ok) {
    return generated;
  }
  return deps.uow.run(async (tx) => {
    const current = await tx.buckets.lock(input.name);
    if (current !== null && canonicalJson(current.spec) === canonicalJson(spec)) {
      return { ok: true, value: { spec, created: false, changed: false } };
    }
    await tx.buckets.save({
      name: input.name,
      accountId: spec.accountId ?? null,
      spec,
      at: deps.clock.now(),
    });
    await tx.audit.append({
      actor: input.by,
      action: current === null ? "bucket.protected" : "bucket.spec_updated",
      data: { bucket: input.name, spec, policyBytes: generated.value.bytes },
    });
    return { ok: true, value: { spec, created: current === null, changed: true } };
  });
}
