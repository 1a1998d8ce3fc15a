import { analyzeEffectiveAccess } from "@keyturn/bucket-policy";
import type {
  BucketCapability,
  BucketPolicyResult,
  BucketPolicyS3Deps,
  BucketSessionCutoff,
  PolicyCapabilityAccess,
  PolicyPrincipal,
  PolicyUndeterminedAccess,
  SetHolder,
} from "./bucket-policy-ports.js";
import { bucketNotFound, cutoffsFor, failure } from "./bucket-policy-support.js";

export type AccessGrant = {
  principal: PolicyPrincipal;
  actions: string[];
  allActions: boolean;
  grantedBy: string[];
  /**
   * Not a Keyturn-granted permission set alone: an exact role, a session, a pattern, an account,
   * anyone, anonymous callers, or a grant some foreign statement makes. Someone should know why it
   * is there.
   */
  extra: boolean;
  /** For a permission set: who can assume its role now, through Keyturn's leases or preexisting. */
  holders: SetHolder[] | null;
};

export type CapabilityReport = {
  capability: BucketCapability;
  grants: AccessGrant[];
  shadowed: PolicyCapabilityAccess["shadowed"];
  openThroughIdentityPolicies: PolicyPrincipal[];
  /** Where AWS's documentation does not decide: the report says so rather than guess. */
  undetermined: PolicyUndeterminedAccess[];
};

export type BucketAccessReport = {
  bucket: string;
  at: Date;
  policyPresent: boolean;
  capabilities: CapabilityReport[];
  unanalyzed: Array<{ statement: string; reason: string }>;
  /**
   * Users whose live sessions the policy refuses right now, and until when; and those pre-armed
   * (`from`: refused from then, their grant's end).
   */
  sessionCutoffs: BucketSessionCutoff[];
};

/**
 * Who can do what on a protected bucket right now: the live policy's grants per capability
 * (analysed by @keyturn/bucket-policy), with each permission set resolved to the people holding
 * it through an active lease (or a preexisting assignment), and everything else flagged `extra`.
 */
export async function bucketAccessReport(
  deps: BucketPolicyS3Deps,
  input: { name: string },
): Promise<BucketPolicyResult<BucketAccessReport>> {
  const at = deps.clock.now();
  const record = await deps.uow.run((tx) => tx.buckets.find(input.name));
  if (record === null) {
    return bucketNotFound(input.name);
  }
  const live = await deps.store.getPolicy(input.name);
  const analysis = analyzeEffectiveAccess({
    bucket: input.name,
    policy: live,
    ...(record.accountId === null ? {} : { accountId: record.accountId }),
    now: at.toISOString(),
  });
  if (!analysis.ok) {
    return failure("INVALID_LIVE_POLICY", analysis.error.message);
  }
  return deps.uow.run(async (tx): Promise<BucketPolicyResult<BucketAccessReport>> => {
    const cutoffs = cutoffsFor(record.spec, await tx.cutoffs.active(at));
    // A holder whose every session of that set is refused does not hold it; one granted again
    // (the cut-off refuses only sessions from before) does, and so does one whose cut-off is
    // pre-armed (S3 refuses only from its start, the grant's end).
    const cutOff = new Set(
      cutoffs
        .filter(
          (cutoff) =>
            cutoff.issuedBefore === undefined &&
            (cutoff.from === undefined || Date.parse(cutoff.from) <= at.getTime()),
        )
        .map((cutoff) => `${cutoff.identityStoreUserId}/${cutoff.accountId}/${cutoff.permissionSet}`),
    );
    const holdersOf = new Map<string, SetHolder[]>();
    const capabilities: CapabilityReport[] = [];
    for (const access of analysis.value.capabilities) {
      const grants: AccessGrant[] = [];
      for (const grant of access.granted) {
        let holders: SetHolder[] | null = null;
        if (grant.principal.kind === "permission-set") {
          const key = `${grant.principal.accountId}/${grant.principal.name}`;
          holders =
            holdersOf.get(key) ??
            (
              await tx.access.holders({
                accountId: grant.principal.accountId,
                permissionSetName: grant.principal.name,
                at,
              })
            ).filter(
              (holder) =>
                holder.identityStoreUserId === null || !cutOff.has(`${holder.identityStoreUserId}/${key}`),
            );
          holdersOf.set(key, holders);
        }
        grants.push({
          principal: grant.principal,
          actions: grant.actions,
          allActions: grant.allActions,
          grantedBy: grant.grantedBy,
          extra: !(grant.principal.kind === "permission-set" && grant.owned),
          holders,
        });
      }
      capabilities.push({
        capability: access.capability,
        grants,
        shadowed: access.shadowed,
        openThroughIdentityPolicies: access.openThroughIdentityPolicies,
        undetermined: access.undetermined,
      });
    }
    return {
      ok: true,
      value: {
        bucket: input.name,
        at,
        policyPresent: live !== null,
        capabilities,
        unanalyzed: analysis.value.unanalyzed,
        sessionCutoffs: cutoffs,
      },
    };
  });
}
