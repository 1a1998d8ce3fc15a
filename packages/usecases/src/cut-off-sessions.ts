import { desiredState } from "@keyturn/core";
import { AppError } from "./app-error.js";
import { applyBucketPolicy } from "./apply-bucket-policy.js";
import type {
  BucketPolicyResult,
  BucketPolicyS3Deps,
  CutoffKey,
  SessionCutoffRecord,
} from "./bucket-policy-ports.js";
import { failure, specNamesSet } from "./bucket-policy-support.js";
import type { IdentityCenter } from "./identity-center.js";
import { SYSTEM } from "./principal.js";

export type SessionCutoffDeps = BucketPolicyS3Deps & { identityCenter: IdentityCenter };

export type BucketReapplied = { bucket: string; put: boolean };

export type SessionCutoffReport = {
  outcome: "armed" | "already_armed" | "lifted" | "none";
  /** Why nothing was done, for `none`. */
  reason?: string;
  cutoff: SessionCutoffRecord | null;
  buckets: BucketReapplied[];
};

/**
 * Run after an assignment's reconcile. Identity Center leaves live sessions running when an
 * assignment goes, so when a user's access to a permission set has ended (no live lease, not
 * preexisting, gone from AWS) every protected bucket naming the set refuses that user's sessions
 * (DenyEndedSessions, keyed on the Identity Center user id) until the last session issued before
 * the removal has expired: removal time + the set's SessionDuration. When the user holds the set
 * again, the cut-off is lifted.
 *
 * Idempotent: the cut-off's end derives from when the assignment was removed (the attempt log),
 * not from when this runs, and the buckets are re-applied on every run while the cut-off is in
 * force, so a run that died after arming is finished by the next. Throws a retryable AppError if
 * a bucket could not be re-applied, after trying all of them.
 */
export async function cutOffSessions(
  deps: SessionCutoffDeps,
  input: { assignmentId: string },
): Promise<BucketPolicyResult<SessionCutoffReport>> {
  const now = deps.clock.now();
  const assignment = await deps.uow.run((tx) => tx.access.assignment(input.assignmentId));
  if (assignment === null) {
    return failure("ASSIGNMENT_NOT_FOUND", `no assignment ${input.assignmentId}`);
  }
  const userId = assignment.identity.identityStoreUserId;
  if (userId === null) {
    return nothing("the user was never resolved in Identity Center, so no session can exist");
  }
  const set = { accountId: assignment.accountId, permissionSetName: assignment.permissionSetName };
  const buckets = await deps.uow.run((tx) => tx.buckets.list());
  if (!buckets.some((bucket) => specNamesSet(deps.engine, bucket.spec, set))) {
    return nothing("no protected bucket names this permission set");
  }
  const key: CutoffKey = {
    identityStoreUserId: userId,
    accountId: assignment.accountId,
    permissionSetName: assignment.permissionSetName,
  };
  const target = { accountId: key.accountId, permissionSetName: key.permissionSetName, principalId: userId };
  // Run right after a reconcile, the assignment's state in AWS is known: ask AWS only when not.
  const inAws = async () => assignment.observedPresent ?? (await deps.identityCenter.hasAssignment(target));
  const existing = await deps.uow.run((tx) => tx.cutoffs.find(key));

  if (desiredState(assignment.origin, assignment.leases, now).present) {
    if (existing === null || existing.until <= now) {
      return nothing("the user holds the permission set");
    }
    // Lifted only once the user can use the set again, so an old session does not come back early.
    if (!(await inAws())) {
      return nothing("the new grant is not in AWS yet");
    }
    const lifted = await deps.uow.run(async (tx) => {
      const removed = await tx.cutoffs.remove({ ...key, at: now });
      if (removed) {
        await tx.audit.append({
          actor: SYSTEM,
          action: "session_cutoff.lifted",
          data: { ...key, assignmentId: assignment.id },
        });
      }
      return tx.cutoffs.find(key);
    });
    return {
      ok: true,
      value: {
        outcome: "lifted",
        cutoff: lifted,
        buckets: await reapply(deps, [key], "session_cutoff_lifted"),
      },
    };
  }

  if (await inAws()) {
    return nothing("the assignment is still in AWS; the reconcile removing it runs this again");
  }
  if (assignment.provisionIntentAt === null) {
    return nothing("Keyturn never created this assignment, so it issued no session");
  }
  const { sessionDurationSeconds } = await deps.identityCenter.permissionSet(key.permissionSetName);
  const removedAt = assignment.lastRemovedAt ?? now;
  const until = new Date(removedAt.getTime() + sessionDurationSeconds * 1000);
  if (until <= now) {
    return nothing("every session issued before the removal has expired");
  }
  const armed = await deps.uow.run(async (tx) => {
    const result = await tx.cutoffs.arm({ ...key, until, at: now });
    if (result.changed) {
      await tx.audit.append({
        actor: SYSTEM,
        action: "session_cutoff.added",
        data: {
          ...key,
          assignmentId: assignment.id,
          removedAt: removedAt.toISOString(),
          until: result.record.until.toISOString(),
          sessionDurationSeconds,
        },
      });
    }
    return result;
  });
  return {
    ok: true,
    value: {
      outcome: armed.changed ? "armed" : "already_armed",
      cutoff: armed.record,
      buckets: await reapply(deps, [key], "session_cutoff"),
    },
  };
}

/**
 * The sweep's half: cut-offs whose sessions have all expired leave the bucket policies. The
 * buckets are re-applied first and the cut-offs marked removed only after every re-apply worked,
 * so a failure leaves them due and the next run tries again.
 */
export async function expireSessionCutoffs(
  deps: BucketPolicyS3Deps,
): Promise<{ expired: SessionCutoffRecord[]; buckets: BucketReapplied[] }> {
  const now = deps.clock.now();
  const due = await deps.uow.run((tx) => tx.cutoffs.due(now));
  if (due.length === 0) {
    return { expired: [], buckets: [] };
  }
  const buckets = await reapply(deps, due, "session_cutoff_expired");
  await deps.uow.run(async (tx) => {
    for (const cutoff of due) {
      const key: CutoffKey = {
        identityStoreUserId: cutoff.identityStoreUserId,
        accountId: cutoff.accountId,
        permissionSetName: cutoff.permissionSetName,
      };
      if (await tx.cutoffs.remove({ ...key, at: now })) {
        await tx.audit.append({
          actor: SYSTEM,
          action: "session_cutoff.expired",
          data: { ...key, until: cutoff.until.toISOString() },
        });
      }
    }
  });
  return { expired: due, buckets };
}

/** Re-applies every protected bucket whose spec names one of the cut-offs' permission sets. */
async function reapply(
  deps: BucketPolicyS3Deps,
  cutoffs: readonly CutoffKey[],
  reason: string,
): Promise<BucketReapplied[]> {
  const all = await deps.uow.run((tx) => tx.buckets.list());
  const affected = all.filter((bucket) =>
    cutoffs.some((cutoff) => specNamesSet(deps.engine, bucket.spec, cutoff)),
  );
  const applied: BucketReapplied[] = [];
  const failures: string[] = [];
  let retryable = false;
  for (const bucket of affected) {
    try {
      const result = await applyBucketPolicy(deps, {
        name: bucket.name,
        by: SYSTEM,
        reason,
        checkDefaultEncryption: false,
      });
      if (result.ok) {
        applied.push({ bucket: bucket.name, put: result.value.put });
      } else {
        failures.push(`${bucket.name}: ${result.error.message}`);
      }
    } catch (error) {
      if (!(error instanceof AppError)) {
        throw error;
      }
      retryable ||= error.retryable;
      failures.push(`${bucket.name}: ${error.message}`);
    }
  }
  if (failures.length > 0) {
    throw new AppError("BUCKET_POLICY_REAPPLY_FAILED", `could not re-apply ${failures.join("; ")}`, {
      retryable,
    });
  }
  return applied;
}

function nothing(reason: string): BucketPolicyResult<SessionCutoffReport> {
  return { ok: true, value: { outcome: "none", reason, cutoff: null, buckets: [] } };
}
