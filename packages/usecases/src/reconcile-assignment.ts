import { desiredState } from "@keyturn/core";
import { activateRequest } from "./activate-request.js";
import { AppError } from "./app-error.js";
import { expireRequest } from "./expire-request.js";
import { failRequest } from "./fail-request.js";
import type {
  AssignmentTarget,
  ChangeStatus,
  IdentityCenter,
  ProvisioningOutcome,
} from "./identity-center.js";
import type { AssignmentSnapshot, Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { resolveIdentity } from "./resolve-identity.js";
import { err, ok, type Result } from "./result.js";

export type ReconcileDeps = Deps & {
  identityCenter: IdentityCenter;
  /** The worker's id; each run claims as `<owner>/<run id>`, for diagnosis. */
  owner: string;
  /** How long a claim lives without renewal: a crashed holder blocks the key at most this long. */
  claimTtlMs?: number;
};

export type ReconcileReport = {
  /**
   * `pending`: AWS is still carrying out a deletion this or an earlier run asked for; run again
   * after `retryAfterMs` (nothing else was decided meanwhile).
   */
  outcome: "converged" | "busy" | "pending";
  retryAfterMs?: number;
  desired?: "present" | "absent";
  actions: Array<"created" | "deleted" | "marked_preexisting" | "pinned_principal" | "create_failed">;
  activated: string[];
  expired: string[];
  failed: string[];
};

const DEFAULT_CLAIM_TTL_MS = 30_000;
// How soon to ask AWS again about a deletion: soon at first, then less often the longer it takes.
const FIRST_STATUS_CHECK_MS = 500;
const MAX_STATUS_CHECK_MS = 5000;

/**
 * Converges one assignment in AWS with what its leases say, then moves the requests that depend
 * on it. Idempotent: running it twice, or after a crash at any line, issues no opposite or
 * duplicate call, because every decision is re-derived from the database and from AWS.
 */
export async function reconcileAssignment(
  deps: ReconcileDeps,
  input: { assignmentId: string },
): Promise<Result<ReconcileReport>> {
  const ttl = deps.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
  const claimUntil = () => new Date(deps.clock.now().getTime() + ttl);
  // The claim belongs to this run, not to the worker: a claim is re-entrant for its holder, and
  // two jobs of one process for the same assignment (its approval and a sweep) must serialize
  // just like jobs of two processes, or both would ask AWS for the same change.
  const owner = `${deps.owner}/${deps.ids.uuid()}`;
  const claim = await deps.uow.run((tx) =>
    tx.assignments.claim({
      id: input.assignmentId,
      owner,
      until: claimUntil(),
      now: deps.clock.now(),
    }),
  );
  if (claim === "missing") {
    return err("REQUEST_NOT_FOUND", `no assignment ${input.assignmentId}`);
  }
  if (claim === "busy") {
    return ok({ outcome: "busy", actions: [], activated: [], expired: [], failed: [] });
  }
  // Keep the claim alive while AWS works (creation can take a while); lose it only by dying.
  const heartbeat = setInterval(() => {
    deps.uow
      .run((tx) => tx.assignments.renewClaim({ id: input.assignmentId, owner, until: claimUntil() }))
      .catch(() => undefined);
  }, ttl / 3);
  try {
    return ok(await converge(deps, input.assignmentId));
  } finally {
    clearInterval(heartbeat);
    await deps.uow.run((tx) => tx.assignments.releaseClaim({ id: input.assignmentId, owner }));
  }
}

async function converge(deps: ReconcileDeps, assignmentId: string): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    outcome: "converged",
    actions: [],
    activated: [],
    expired: [],
    failed: [],
  };
  const snapshot = await deps.uow.run((tx) => tx.assignments.snapshot(assignmentId));
  if (snapshot === null) {
    throw new AppError("ASSIGNMENT_VANISHED", `assignment ${assignmentId} disappeared while claimed`, {
      retryable: false,
    });
  }
  if (snapshot.pending !== null) {
    const stillRunning = await settlePendingDeletion(deps, snapshot, report);
    if (stillRunning) {
      return report;
    }
  }
  const now = deps.clock.now();
  const desired = desiredState(snapshot.origin, snapshot.leases, now);
  report.desired = desired.present ? "present" : "absent";

  const principalId = await resolvePrincipal(deps, snapshot, desired.present, report);
  if (principalId !== null) {
    const target: AssignmentTarget = {
      accountId: snapshot.accountId,
      permissionSetName: snapshot.permissionSetName,
      principalId,
    };
    // An ending lease is the hot path (K leases ending together share the 20 calls/s quota), and
    // for Keyturn's own assignment the database already knows what AWS holds once the last change
    // was confirmed: removal then costs the DeleteAccountAssignment alone, and the follow-up run
    // after it costs nothing. Grants and unknown states still look AWS up first.
    const known =
      !desired.present && snapshot.origin === "keyturn" && snapshot.provisionIntentAt !== null
        ? snapshot.observedPresent
        : null;
    const exists = known ?? (await deps.identityCenter.hasAssignment(target));
    if (known === null) {
      const interrupted = snapshot.provisionIntentAt !== null && snapshot.observedPresent === null;
      await deps.uow.run(async (tx) => {
        await tx.assignments.recordObservation(assignmentId, exists, deps.clock.now());
        if (interrupted) {
          // A worker died between asking AWS for a change and recording its outcome: what AWS
          // did is on the trail from here.
          await tx.audit.append({
            actor: SYSTEM,
            action: "assignment.observed_after_interruption",
            data: { assignmentId, ...target, present: exists },
          });
        }
      });
    }

    if (exists && snapshot.origin === "keyturn" && snapshot.provisionIntentAt === null) {
      // It was there before Keyturn ever asked for it: someone else's grant, never ours to remove.
      await deps.uow.run(async (tx) => {
        await tx.assignments.markPreexisting(assignmentId);
        await tx.audit.append({
          actor: SYSTEM,
          action: "assignment.marked_preexisting",
          data: { assignmentId, ...target },
        });
      });
      snapshot.origin = "preexisting";
      report.actions.push("marked_preexisting");
    }

    const holders = snapshot.leases
      .filter((l) => desired.holders.includes(l.requestId))
      .map((l) => l.requestId);
    if (desired.present && !exists) {
      const outcome = await provision(deps, snapshot, target, "create", holders);
      if (outcome.status === "FAILED") {
        report.actions.push("create_failed");
        for (const lease of snapshot.leases) {
          if (lease.requestStatus === "approved" && desired.holders.includes(lease.requestId)) {
            await failRequest(deps, {
              requestId: lease.requestId,
              reason: `AWS could not create the assignment: ${outcome.failureReason}`,
            });
            report.failed.push(lease.requestId);
          }
        }
        return report;
      }
      report.actions.push("created");
    } else if (!desired.present && exists && snapshot.origin === "keyturn") {
      const removal = await requestRemoval(deps, snapshot, target);
      if (removal === "pending") {
        // Requests move once AWS confirms; the job comes back for that without holding a worker.
        report.outcome = "pending";
        report.retryAfterMs = FIRST_STATUS_CHECK_MS;
        return report;
      }
      report.actions.push("deleted");
    }
  }

  await settleRequests(deps, snapshot, desired.present, principalId !== null, report);
  return report;
}

async function resolvePrincipal(
  deps: ReconcileDeps,
  snapshot: AssignmentSnapshot,
  needed: boolean,
  report: ReconcileReport,
): Promise<string | null> {
  if (snapshot.identity.identityStoreUserId !== null) {
    return snapshot.identity.identityStoreUserId;
  }
  if (!needed && snapshot.provisionIntentAt === null) {
    // Never resolved, never created: nothing of ours can exist in AWS.
    return null;
  }
  const resolved = await resolveIdentity(deps, { identityId: snapshot.identity.id });
  if (!resolved.ok) {
    for (const lease of snapshot.leases) {
      if (lease.requestStatus === "approved") {
        await failRequest(deps, { requestId: lease.requestId, reason: resolved.error.message });
        report.failed.push(lease.requestId);
      }
    }
    return null;
  }
  if (resolved.value.pinnedNow) {
    report.actions.push("pinned_principal");
  }
  return resolved.value.principalId;
}

async function provision(
  deps: ReconcileDeps,
  snapshot: AssignmentSnapshot,
  target: AssignmentTarget,
  operation: "create",
  requestIds: string[],
): Promise<ProvisioningOutcome> {
  const startedAt = deps.clock.now();
  // Written before the call: if we die after AWS acted, the next run knows the assignment is ours
  // and that AWS must be asked what it holds.
  await deps.uow.run((tx) => tx.assignments.markChangeRequested(snapshot.id, operation, startedAt));
  let outcome: ProvisioningOutcome;
  try {
    outcome = await deps.identityCenter.createAssignment(target);
  } catch (error) {
    await recordError(deps, snapshot.id, operation, requestIds, startedAt, error);
    throw error;
  }
  await recordOutcome(deps, snapshot.id, target, operation, outcome, requestIds, startedAt);
  return outcome;
}

/**
 * Sends the delete. When AWS answers IN_PROGRESS (the usual case) its request id is saved and the
 * run ends "pending": the worker is free for the next removal at once, and a later run asks AWS how
 * the request ended (`settlePendingDeletion`) rather than sending another.
 */
async function requestRemoval(
  deps: ReconcileDeps,
  snapshot: AssignmentSnapshot,
  target: AssignmentTarget,
): Promise<"pending" | "deleted"> {
  const requestIds = snapshot.leases.map((l) => l.requestId);
  const startedAt = deps.clock.now();
  await deps.uow.run((tx) => tx.assignments.markChangeRequested(snapshot.id, "delete", startedAt));
  let status: ChangeStatus;
  try {
    status = await deps.identityCenter.startDeletion(target);
  } catch (error) {
    await recordError(deps, snapshot.id, "delete", requestIds, startedAt, error);
    throw error;
  }
  if (status.status === "IN_PROGRESS") {
    await deps.uow.run(async (tx) => {
      await tx.assignments.setPending(snapshot.id, {
        operation: "delete",
        requestId: status.requestId,
        since: startedAt,
      });
      // The instant Keyturn asked is on the trail, not only the instant AWS confirmed.
      await tx.audit.append({
        actor: SYSTEM,
        action: "assignment.delete_requested",
        data: { assignmentId: snapshot.id, ...target, awsRequestId: status.requestId, requestIds },
      });
    });
    return "pending";
  }
  await finishDeletion(deps, snapshot.id, target, status, requestIds, startedAt);
  return "deleted";
}

/** Returns true while AWS is still at it. */
async function settlePendingDeletion(
  deps: ReconcileDeps,
  snapshot: AssignmentSnapshot,
  report: ReconcileReport,
): Promise<boolean> {
  const pending = snapshot.pending;
  if (pending === null) {
    return false;
  }
  const status = await deps.identityCenter.deletionStatus(pending.requestId);
  if (status?.status === "IN_PROGRESS") {
    const age = deps.clock.now().getTime() - pending.since.getTime();
    report.outcome = "pending";
    report.retryAfterMs = Math.min(MAX_STATUS_CHECK_MS, Math.max(FIRST_STATUS_CHECK_MS, age));
    return true;
  }
  if (status === null) {
    // AWS no longer knows the request: what it holds is unknown, so this run looks it up.
    await deps.uow.run((tx) => tx.assignments.setPending(snapshot.id, null));
  } else {
    const target: AssignmentTarget = {
      accountId: snapshot.accountId,
      permissionSetName: snapshot.permissionSetName,
      principalId: snapshot.identity.identityStoreUserId ?? "",
    };
    const requestIds = snapshot.leases.map((l) => l.requestId);
    await finishDeletion(deps, snapshot.id, target, status, requestIds, pending.since);
    report.actions.push("deleted");
  }
  snapshot.pending = null;
  snapshot.observedPresent = status === null ? null : false;
  return false;
}

/** Records how a deletion ended; one that failed with access still in place is thrown to retry. */
async function finishDeletion(
  deps: ReconcileDeps,
  assignmentId: string,
  target: AssignmentTarget,
  outcome: ProvisioningOutcome,
  requestIds: string[],
  startedAt: Date,
): Promise<void> {
  await recordOutcome(deps, assignmentId, target, "delete", outcome, requestIds, startedAt);
  if (outcome.status === "FAILED" && !(await goneAfterFailedDelete(deps, assignmentId, target))) {
    // Access that should be gone is still there: never give up, let the job retry.
    throw new AppError("REMOVAL_FAILED", `AWS could not delete the assignment: ${outcome.failureReason}`, {
      retryable: true,
    });
  }
}

async function recordError(
  deps: ReconcileDeps,
  assignmentId: string,
  operation: "create" | "delete",
  requestIds: string[],
  startedAt: Date,
  error: unknown,
): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  await deps.uow.run((tx) =>
    tx.assignments.recordAttempt({
      assignmentId,
      operation,
      outcome: "error",
      awsRequestId: null,
      failureReason: reason,
      requestIds,
      startedAt,
      finishedAt: deps.clock.now(),
    }),
  );
}

/** The attempt, what AWS now holds (unknown after a failed delete), and the audit event, at once. */
async function recordOutcome(
  deps: ReconcileDeps,
  assignmentId: string,
  target: AssignmentTarget,
  operation: "create" | "delete",
  outcome: ProvisioningOutcome,
  requestIds: string[],
  startedAt: Date,
): Promise<void> {
  const finishedAt = deps.clock.now();
  const succeeded = outcome.status === "SUCCEEDED";
  await deps.uow.run(async (tx) => {
    await tx.assignments.recordAttempt({
      assignmentId,
      operation,
      outcome: succeeded ? "succeeded" : "failed",
      awsRequestId: outcome.requestId,
      failureReason: outcome.status === "FAILED" ? outcome.failureReason : null,
      requestIds,
      startedAt,
      finishedAt,
    });
    if (operation === "delete") {
      await tx.assignments.setPending(assignmentId, null);
    }
    if (operation === "create" || succeeded) {
      await tx.assignments.recordObservation(assignmentId, operation === "create" && succeeded, finishedAt);
    }
    await tx.audit.append({
      actor: SYSTEM,
      action: `assignment.${operation === "create" ? "created" : "deleted"}${succeeded ? "" : "_failed"}`,
      data: {
        assignmentId,
        ...target,
        awsRequestId: outcome.requestId,
        requestIds,
        ...(outcome.status === "FAILED" ? { failureReason: outcome.failureReason } : {}),
      },
    });
  });
}

/**
 * A delete can fail because the assignment is already gone (removed outside Keyturn since it was
 * last seen); then the removal is done. Anything still there is retried by the caller.
 */
async function goneAfterFailedDelete(
  deps: ReconcileDeps,
  assignmentId: string,
  target: AssignmentTarget,
): Promise<boolean> {
  const exists = await deps.identityCenter.hasAssignment(target);
  await deps.uow.run((tx) => tx.assignments.recordObservation(assignmentId, exists, deps.clock.now()));
  return !exists;
}

/** With AWS converged, move each request on this assignment to the state its lease implies. */
async function settleRequests(
  deps: ReconcileDeps,
  snapshot: AssignmentSnapshot,
  present: boolean,
  resolved: boolean,
  report: ReconcileReport,
): Promise<void> {
  const now = deps.clock.now();
  for (const lease of snapshot.leases) {
    const live = lease.releasedAt === null && lease.endsAt > now;
    if (lease.requestStatus === "approved" && live && present && resolved) {
      const result = await activateRequest(deps, { requestId: lease.requestId });
      if (result.ok) {
        report.activated.push(lease.requestId);
      }
    } else if (lease.requestStatus === "active" && lease.releasedAt === null && lease.endsAt <= now) {
      const result = await expireRequest(deps, { requestId: lease.requestId });
      if (result.ok) {
        report.expired.push(lease.requestId);
      }
    } else if (lease.requestStatus === "approved" && lease.releasedAt === null && lease.endsAt <= now) {
      const result = await failRequest(deps, {
        requestId: lease.requestId,
        reason: "the access window ended before the assignment could be created",
      });
      if (result.ok) {
        report.failed.push(lease.requestId);
      }
    }
  }
}
