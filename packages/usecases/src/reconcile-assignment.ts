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
import type {
  AssignmentClaim,
  AssignmentClaims,
  AssignmentSnapshot,
  Deps,
  PeopleDirectory,
} from "./ports.js";
import { SYSTEM } from "./principal.js";
import { type Repinned, repinIdentity } from "./repin-identity.js";
import { resolveIdentity } from "./resolve-identity.js";
import { err, ok, type Result } from "./result.js";

export type ReconcileDeps = Deps & {
  identityCenter: IdentityCenter;
  /** Per-assignment claims that end with their holder (see AssignmentClaims). */
  claims: AssignmentClaims;
  /** Slack's view of people, checked before a pin moves to a re-provisioned user. */
  people?: PeopleDirectory;
  /**
   * Runs under the claim right before every create, whatever caused the run (a removal's run
   * finds a new grant too): the worker readies the session cut-offs for the new grant there.
   */
  beforeCreate?: (assignmentId: string) => Promise<void>;
};

export type ReconcileAction =
  | "created"
  | "deleted"
  | "marked_preexisting"
  | "pinned_principal"
  | "repinned_principal"
  | "create_failed"
  | "create_skipped";

export type ReconcileReport = {
  /**
   * `pending`: AWS is still carrying out a change this or an earlier run asked for; run again
   * after `retryAfterMs` (nothing else was decided meanwhile).
   */
  outcome: "converged" | "busy" | "pending";
  retryAfterMs?: number;
  desired?: "present" | "absent";
  actions: ReconcileAction[];
  activated: string[];
  expired: string[];
  failed: string[];
  /** Pins moved to a re-provisioned user: security-relevant, the caller alerts on them. */
  repinned: Repinned[];
};

// How soon to ask AWS again about a change: soon at first, then less often the longer it takes.
const FIRST_STATUS_CHECK_MS = 500;
const MAX_STATUS_CHECK_MS = 5000;
// A create is sent only for a lease that still runs this long after the check. The check is the
// last thing before the request goes on the wire (after every wait for the quota or a creation
// slot), so this only has to cover signing and the way to AWS, on a busy machine.
const MIN_REMAINING_TO_CREATE_MS = 500;
// A pin moves at most once per run (the user re-provisioned between the lookup and the create).
const MAX_ROUNDS = 2;

type Run = {
  deps: ReconcileDeps;
  claim: AssignmentClaim;
  assignmentId: string;
  report: ReconcileReport;
};

export function emptyReport(outcome: ReconcileReport["outcome"] = "converged"): ReconcileReport {
  return { outcome, actions: [], activated: [], expired: [], failed: [], repinned: [] };
}

/**
 * Converges one assignment in AWS with what its leases say, then moves the requests that depend
 * on it so that each says what AWS did: an assignment AWS holds is `active` (from when AWS started
 * it) until it is removed. Idempotent: running it twice, or after a crash at any line, issues no
 * opposite or duplicate call, because every decision is re-derived from the database and from
 * AWS, and every change AWS accepted is settled by its request id.
 */
export async function reconcileAssignment(
  deps: ReconcileDeps,
  input: { assignmentId: string },
): Promise<Result<ReconcileReport>> {
  const claim = await deps.claims.acquire(input.assignmentId);
  if (claim === null) {
    return ok(emptyReport("busy"));
  }
  try {
    const snapshot = await load(deps, input.assignmentId);
    if (snapshot === null) {
      return err("REQUEST_NOT_FOUND", `no assignment ${input.assignmentId}`);
    }
    const run: Run = { deps, claim, assignmentId: input.assignmentId, report: emptyReport() };
    await converge(run, snapshot);
    return ok(run.report);
  } finally {
    await claim.release();
  }
}

function load(deps: Deps, assignmentId: string): Promise<AssignmentSnapshot | null> {
  return deps.uow.run((tx) => tx.assignments.snapshot(assignmentId));
}

async function reload(run: Run): Promise<AssignmentSnapshot> {
  const snapshot = await load(run.deps, run.assignmentId);
  if (snapshot === null) {
    throw new AppError("ASSIGNMENT_VANISHED", `assignment ${run.assignmentId} disappeared while claimed`, {
      retryable: false,
    });
  }
  return snapshot;
}

const targetOf = (snapshot: AssignmentSnapshot, principalId: string): AssignmentTarget => ({
  accountId: snapshot.accountId,
  permissionSetName: snapshot.permissionSetName,
  principalId,
});

const describeTarget = (snapshot: AssignmentSnapshot, principalId: string) =>
  `permission set ${snapshot.permissionSetName} in account ${snapshot.accountId} for Identity Center user ${principalId} (${snapshot.identity.email})`;

async function converge(run: Run, first: AssignmentSnapshot): Promise<void> {
  let snapshot = first;
  // What AWS did while nobody watched (a worker died mid-change) is settled first, by request id.
  if (snapshot.pending?.operation === "delete") {
    if (await settlePendingDeletion(run, snapshot)) {
      return;
    }
    snapshot = await reload(run);
  }
  let grantedAt: Date | undefined;
  if (snapshot.pending?.operation === "create") {
    const settled = await settlePendingCreation(run, snapshot);
    if (settled.kind === "in_progress") {
      return;
    }
    grantedAt = settled.grantedAt;
    snapshot = await reload(run);
    if (settled.kind === "failed") {
      const next = await afterFailedCreate(run, snapshot, settled.principalId, settled.outcome);
      if (next === "stop") {
        await settleRequests(run, await reload(run), false);
        return;
      }
      snapshot = await reload(run);
      grantedAt = undefined;
    }
  }
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    if ((await convergeOnce(run, snapshot, grantedAt)) === "done") {
      return;
    }
    snapshot = await reload(run);
    grantedAt = undefined;
  }
}

async function convergeOnce(
  run: Run,
  first: AssignmentSnapshot,
  grantedAt: Date | undefined,
): Promise<"done" | "repinned"> {
  const { deps, report, assignmentId } = run;
  let snapshot = first;
  let desired = desiredState(snapshot.origin, snapshot.leases, deps.clock.now());
  report.desired = desired.present ? "present" : "absent";
  const waiting = snapshot.leases.some((l) => l.requestStatus === "approved" && l.releasedAt === null);
  const principalId = await resolvePrincipal(run, snapshot, desired.present || waiting);
  if (principalId === null) {
    await settleRequests(run, await reload(run), false);
    return "done";
  }
  const target = targetOf(snapshot, principalId);
  // An ending lease is the hot path (K leases ending together share the 20 calls/s quota), and
  // for Keyturn's own assignment the database already knows what AWS holds once the last change
  // was confirmed: removal then costs the DeleteAccountAssignment alone, and the follow-up run
  // after it costs nothing. Grants and unknown states still look AWS up first.
  const known =
    !desired.present && snapshot.origin === "keyturn" && snapshot.provisionIntentAt !== null
      ? snapshot.observedPresent
      : null;
  let exists = known ?? (await deps.identityCenter.hasAssignment(target));
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

  if (exists && (await activateHolders(run, snapshot, grantedAt ?? "earlier"))) {
    // Activation starts each lease's clock, which can keep the assignment wanted for longer.
    snapshot = await reload(run);
    desired = desiredState(snapshot.origin, snapshot.leases, deps.clock.now());
    report.desired = desired.present ? "present" : "absent";
  }

  if (desired.present && !exists) {
    const created = await create(run, snapshot, target);
    if (created.kind === "failed") {
      const next = await afterFailedCreate(run, snapshot, principalId, created.outcome);
      if (next === "repinned") {
        return "repinned";
      }
    } else if (created.kind === "created") {
      exists = true;
      report.actions.push("created");
      await activateHolders(run, await reload(run), "now");
    } else {
      // Every lease on it ends within moments: no grant, and the requests say why at once.
      report.actions.push("create_skipped");
      for (const lease of snapshot.leases) {
        if (lease.requestStatus === "approved" && lease.releasedAt === null) {
          await failOne(run, lease.requestId, await causeOfNoGrant(run, snapshot, lease, "too_late"));
        }
      }
    }
  }
  // Decided against one instant: a lease that ended while AWS was asked and answered is ended
  // here too, and what AWS holds for no live lease goes before any request is told it is over.
  const latest = await reload(run);
  const at = deps.clock.now();
  if (exists && latest.origin === "keyturn" && !desiredState(latest.origin, latest.leases, at).present) {
    report.desired = "absent";
    const removal = await requestRemoval(run, latest, target);
    if (removal === "pending") {
      // Requests move once AWS confirms; the job comes back for that without holding a worker.
      report.outcome = "pending";
      report.retryAfterMs = FIRST_STATUS_CHECK_MS;
      return "done";
    }
    exists = false;
  }
  await settleRequests(run, latest, exists, at);
  return "done";
}

const requestIdsOf = (snapshot: AssignmentSnapshot) => snapshot.leases.map((l) => l.requestId);

async function resolvePrincipal(
  run: Run,
  snapshot: AssignmentSnapshot,
  needed: boolean,
): Promise<string | null> {
  if (snapshot.identity.identityStoreUserId !== null) {
    return snapshot.identity.identityStoreUserId;
  }
  if (!needed && snapshot.provisionIntentAt === null) {
    // Never resolved, never created: nothing of ours can exist in AWS.
    return null;
  }
  const resolved = await resolveIdentity(run.deps, { identityId: snapshot.identity.id });
  if (!resolved.ok) {
    await failWaiting(run, snapshot, resolved.error.message);
    return null;
  }
  if (resolved.value.pinnedNow) {
    run.report.actions.push("pinned_principal");
  }
  return resolved.value.principalId;
}

/** Fails the approved requests still waiting for this assignment, with the cause in words. */
async function failWaiting(run: Run, snapshot: AssignmentSnapshot, reason: string): Promise<void> {
  for (const lease of snapshot.leases) {
    if (lease.requestStatus === "approved" && lease.releasedAt === null) {
      await failOne(run, lease.requestId, reason);
    }
  }
}

async function failOne(run: Run, requestId: string, reason: string): Promise<void> {
  const failed = await failRequest(run.deps, { requestId, reason });
  if (failed.ok) {
    run.report.failed.push(requestId);
  }
}

/**
 * An assignment AWS holds is granted until it is removed: every approved request on it becomes
 * active, from `since`: a known instant (when AWS accepted the create, learnt after a crash), now
 * (it was just created), or "earlier" (found present: since Keyturn last saw its create succeed,
 * if it did, else now).
 */
async function activateHolders(
  run: Run,
  snapshot: AssignmentSnapshot,
  since: Date | "now" | "earlier",
): Promise<boolean> {
  const waiting = snapshot.leases.filter((l) => l.requestStatus === "approved" && l.releasedAt === null);
  if (waiting.length === 0) {
    return false;
  }
  let startedAt: Date | undefined = since instanceof Date ? since : undefined;
  if (since === "earlier" && snapshot.origin === "keyturn") {
    const from = new Date(Math.min(...waiting.map((l) => l.startsAt.getTime())));
    const created = await run.deps.uow.run((tx) =>
      tx.assignments.lastAttempt(run.assignmentId, {
        since: from,
        operation: "create",
        outcomes: ["succeeded"],
      }),
    );
    startedAt = created?.finishedAt;
  }
  let any = false;
  for (const lease of waiting) {
    const result = await activateRequest(run.deps, {
      requestId: lease.requestId,
      ...(startedAt === undefined ? {} : { startedAt }),
    });
    if (result.ok) {
      any = true;
      run.report.activated.push(lease.requestId);
    }
  }
  return any;
}

type Creation =
  | { kind: "created"; outcome: ProvisioningOutcome }
  | { kind: "failed"; outcome: Extract<ProvisioningOutcome, { status: "FAILED" }> }
  | { kind: "skipped" };

/**
 * Before every attempt: this run still holds the claim, and a lease still needs the assignment a
 * moment from now. The leases are read before the wait for the call quota; the returned check
 * runs after it, right before the request goes out, against what was read: never a create for a
 * lease that ended while the call waited for a creation slot or the quota.
 */
async function checkBeforeCreate(run: Run, origin: AssignmentSnapshot["origin"]): Promise<() => void> {
  const leases = await run.deps.uow.run((tx) => tx.assignments.leases(run.assignmentId));
  const check = () => {
    if (!run.claim.held()) {
      throw new AppError("CLAIM_LOST", `lost the claim on assignment ${run.assignmentId}`, {
        retryable: true,
      });
    }
    const at = new Date(run.deps.clock.now().getTime() + MIN_REMAINING_TO_CREATE_MS);
    if (!desiredState(origin, leases, at).present) {
      throw new AppError(
        "LEASE_ENDED",
        `no lease needs assignment ${run.assignmentId} ${MIN_REMAINING_TO_CREATE_MS} ms from now`,
        { retryable: false },
      );
    }
  };
  check();
  return check;
}

async function create(run: Run, snapshot: AssignmentSnapshot, target: AssignmentTarget): Promise<Creation> {
  const { deps, assignmentId } = run;
  const requestIds = requestIdsOf(snapshot);
  await deps.beforeCreate?.(assignmentId);
  const startedAt = deps.clock.now();
  // Written before the call: if we die after AWS acted, the next run knows the assignment is ours
  // and that a create may be on its way, and looks its request up instead of sending another.
  await deps.uow.run((tx) => tx.assignments.markChangeRequested(assignmentId, "create", startedAt));
  let sent = 0;
  let outcome: ProvisioningOutcome;
  try {
    outcome = await deps.identityCenter.createAssignment(target, {
      beforeSend: async () => {
        const check = await checkBeforeCreate(run, snapshot.origin);
        return () => {
          check();
          sent++;
        };
      },
      accepted: async ({ requestId }) => {
        await deps.uow.run(async (tx) => {
          await tx.assignments.setPending(assignmentId, { operation: "create", requestId, since: startedAt });
          await tx.audit.append({
            actor: SYSTEM,
            action: "assignment.create_requested",
            data: { assignmentId, ...target, awsRequestId: requestId, requestIds },
          });
        });
      },
    });
  } catch (error) {
    if (sent === 0) {
      // Nothing went out: AWS holds what the lookup just saw.
      await deps.uow.run(async (tx) => {
        await tx.assignments.setPending(assignmentId, null);
        await tx.assignments.recordObservation(assignmentId, false, deps.clock.now());
      });
      if (error instanceof AppError && error.code === "LEASE_ENDED") {
        return { kind: "skipped" };
      }
      throw error;
    }
    // Whether AWS accepted it is unknown unless it answered: the pending mark stays for the next
    // run, with AWS's request id when there was one.
    await recordError(run, "create", requestIds, startedAt, error);
    throw error;
  }
  await recordOutcome(run, target, "create", outcome, requestIds, startedAt);
  return outcome.status === "SUCCEEDED" ? { kind: "created", outcome } : { kind: "failed", outcome };
}

/**
 * A create AWS refused: when its user no longer exists (an identity provider re-provisioned them
 * under a new id), the pin moves to the same person's new user and the caller creates again;
 * otherwise the waiting requests fail with AWS's reason, the target and AWS's request id.
 */
async function afterFailedCreate(
  run: Run,
  snapshot: AssignmentSnapshot,
  principalId: string,
  outcome: Extract<ProvisioningOutcome, { status: "FAILED" }>,
): Promise<"repinned" | "stop"> {
  const { deps, report } = run;
  report.actions.push("create_failed");
  if (!(await deps.identityCenter.userExists(principalId))) {
    const moved = await repinIdentity(deps, {
      identityId: snapshot.identity.id,
      missingPrincipalId: principalId,
    });
    if (moved.ok && moved.value.principalId !== principalId) {
      report.actions.push("repinned_principal");
      if (moved.value.previousPrincipalId !== null) {
        report.repinned.push(moved.value);
      }
      return "repinned";
    }
    if (!moved.ok) {
      await failWaiting(run, snapshot, moved.error.message);
      return "stop";
    }
  }
  await failWaiting(
    run,
    snapshot,
    `AWS could not create the assignment of ${describeTarget(snapshot, principalId)}: ${outcome.failureReason} (AWS request id ${outcome.requestId})`,
  );
  return "stop";
}

type SettledCreation =
  | { kind: "in_progress" }
  | { kind: "succeeded" | "unknown"; grantedAt: Date }
  | {
      kind: "failed";
      grantedAt: Date;
      principalId: string;
      outcome: Extract<ProvisioningOutcome, { status: "FAILED" }>;
    };

/**
 * A create an earlier run sent and never saw end: asked about by its request id, or, when its
 * sender died before it could save the id, found among the requests AWS accepted since.
 */
async function settlePendingCreation(run: Run, snapshot: AssignmentSnapshot): Promise<SettledCreation> {
  const { deps, assignmentId, report } = run;
  const pending = snapshot.pending;
  const principalId = snapshot.identity.identityStoreUserId;
  if (pending?.operation !== "create" || principalId === null) {
    await deps.uow.run((tx) => tx.assignments.setPending(assignmentId, null));
    return { kind: "unknown", grantedAt: pending?.since ?? deps.clock.now() };
  }
  const target = targetOf(snapshot, principalId);
  let status: ChangeStatus | null;
  if (pending.requestId !== null) {
    status = await deps.identityCenter.creationStatus(pending.requestId);
  } else {
    status = await deps.identityCenter.findCreation(target, pending.since);
    await deps.uow.run((tx) =>
      tx.audit.append({
        actor: SYSTEM,
        action: "assignment.create_looked_up",
        data: {
          assignmentId,
          ...target,
          since: pending.since.toISOString(),
          awsRequestId: status?.requestId ?? null,
        },
      }),
    );
  }
  if (status === null) {
    // Never accepted (no id), or AWS no longer knows the id: this run looks up what AWS holds.
    await deps.uow.run((tx) => tx.assignments.setPending(assignmentId, null));
    return { kind: "unknown", grantedAt: pending.since };
  }
  if (status.status === "IN_PROGRESS") {
    if (pending.requestId === null) {
      const found = status.requestId;
      await deps.uow.run((tx) =>
        tx.assignments.setPending(assignmentId, {
          operation: "create",
          requestId: found,
          since: pending.since,
        }),
      );
    }
    const age = deps.clock.now().getTime() - pending.since.getTime();
    report.outcome = "pending";
    report.retryAfterMs = Math.min(MAX_STATUS_CHECK_MS, Math.max(FIRST_STATUS_CHECK_MS, age));
    return { kind: "in_progress" };
  }
  await recordOutcome(run, target, "create", status, requestIdsOf(snapshot), pending.since);
  const grantedAt = status.createdAt ?? pending.since;
  if (status.status === "FAILED") {
    return { kind: "failed", grantedAt, principalId, outcome: status };
  }
  report.actions.push("created");
  return { kind: "succeeded", grantedAt };
}

/**
 * Sends the delete. When AWS answers IN_PROGRESS (the usual case) its request id is saved and the
 * run ends "pending": the worker is free for the next removal at once, and a later run asks AWS how
 * the request ended (`settlePendingDeletion`) rather than sending another.
 */
async function requestRemoval(
  run: Run,
  snapshot: AssignmentSnapshot,
  target: AssignmentTarget,
): Promise<"pending" | "deleted"> {
  const { deps, assignmentId, report } = run;
  const requestIds = requestIdsOf(snapshot);
  if (!run.claim.held()) {
    throw new AppError("CLAIM_LOST", `lost the claim on assignment ${assignmentId}`, { retryable: true });
  }
  const startedAt = deps.clock.now();
  await deps.uow.run((tx) => tx.assignments.markChangeRequested(assignmentId, "delete", startedAt));
  let status: ChangeStatus;
  try {
    status = await deps.identityCenter.startDeletion(target);
  } catch (error) {
    await recordError(run, "delete", requestIds, startedAt, error);
    throw error;
  }
  if (status.status === "IN_PROGRESS") {
    await deps.uow.run(async (tx) => {
      await tx.assignments.setPending(assignmentId, {
        operation: "delete",
        requestId: status.requestId,
        since: startedAt,
      });
      // The instant Keyturn asked is on the trail, not only the instant AWS confirmed.
      await tx.audit.append({
        actor: SYSTEM,
        action: "assignment.delete_requested",
        data: { assignmentId, ...target, awsRequestId: status.requestId, requestIds },
      });
    });
    return "pending";
  }
  await finishDeletion(run, target, status, requestIds, startedAt);
  report.actions.push("deleted");
  return "deleted";
}

/** Returns true while AWS is still at it. */
async function settlePendingDeletion(run: Run, snapshot: AssignmentSnapshot): Promise<boolean> {
  const { deps, assignmentId, report } = run;
  const pending = snapshot.pending;
  if (pending?.operation !== "delete") {
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
    await deps.uow.run((tx) => tx.assignments.setPending(assignmentId, null));
    return false;
  }
  const target = targetOf(snapshot, snapshot.identity.identityStoreUserId ?? "");
  await finishDeletion(run, target, status, requestIdsOf(snapshot), pending.since);
  report.actions.push("deleted");
  return false;
}

/** Records how a deletion ended; one that failed with access still in place is thrown to retry. */
async function finishDeletion(
  run: Run,
  target: AssignmentTarget,
  outcome: ProvisioningOutcome,
  requestIds: string[],
  startedAt: Date,
): Promise<void> {
  await recordOutcome(run, target, "delete", outcome, requestIds, startedAt);
  if (outcome.status === "FAILED" && !(await goneAfterFailedDelete(run, target, outcome))) {
    // Access that should be gone is still there: never give up, let the job retry.
    throw new AppError(
      "REMOVAL_FAILED",
      `AWS could not delete the assignment of permission set ${target.permissionSetName} in account ${target.accountId} for Identity Center user ${target.principalId}: ${outcome.failureReason} (AWS request id ${outcome.requestId})`,
      { retryable: true },
    );
  }
}

async function recordError(
  run: Run,
  operation: "create" | "delete",
  requestIds: string[],
  startedAt: Date,
  error: unknown,
): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  await run.deps.uow.run((tx) =>
    tx.assignments.recordAttempt({
      assignmentId: run.assignmentId,
      operation,
      outcome: "error",
      awsRequestId: null,
      failureReason: reason,
      requestIds,
      startedAt,
      finishedAt: run.deps.clock.now(),
    }),
  );
}

/** The attempt, what AWS now holds (unknown after a failed delete), and the audit event, at once. */
async function recordOutcome(
  run: Run,
  target: AssignmentTarget,
  operation: "create" | "delete",
  outcome: ProvisioningOutcome,
  requestIds: string[],
  startedAt: Date,
): Promise<void> {
  const { deps, assignmentId } = run;
  const finishedAt = deps.clock.now();
  const succeeded = outcome.status === "SUCCEEDED";
  const action = `assignment.${operation === "create" ? "created" : "deleted"}${succeeded ? "" : "_failed"}`;
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
    await tx.assignments.setPending(assignmentId, null);
    if (operation === "create" || succeeded) {
      await tx.assignments.recordObservation(assignmentId, operation === "create" && succeeded, finishedAt);
    }
    await tx.audit.append({
      actor: SYSTEM,
      action,
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
 * last seen); then the removal is done. So it is when its user is gone from the identity store:
 * AWS keeps listing a deleted user's assignments but refuses to delete them, and nobody can sign
 * in as that user. Anything else still there is retried by the caller.
 */
async function goneAfterFailedDelete(
  run: Run,
  target: AssignmentTarget,
  outcome: Extract<ProvisioningOutcome, { status: "FAILED" }>,
): Promise<boolean> {
  const { deps, assignmentId } = run;
  const exists = await deps.identityCenter.hasAssignment(target);
  const userGone = exists && !(await deps.identityCenter.userExists(target.principalId));
  await deps.uow.run(async (tx) => {
    await tx.assignments.recordObservation(assignmentId, exists && !userGone, deps.clock.now());
    if (userGone) {
      await tx.audit.append({
        actor: SYSTEM,
        action: "assignment.principal_gone",
        data: {
          assignmentId,
          ...target,
          awsRequestId: outcome.requestId,
          failureReason: outcome.failureReason,
        },
      });
    }
  });
  return !exists || userGone;
}

/**
 * With AWS converged, every request on this assignment gets the state its lease and AWS imply:
 * ended leases of active requests expire, and an approved request whose window ended without AWS
 * ever holding the assignment fails with the cause.
 */
async function settleRequests(
  run: Run,
  snapshot: AssignmentSnapshot,
  present: boolean,
  at: Date = run.deps.clock.now(),
): Promise<void> {
  const { deps, report } = run;
  for (const lease of snapshot.leases) {
    // Ended as of `at`, the instant the removal was decided on: never a lease that ended since,
    // whose assignment may still be there.
    const ended = lease.releasedAt === null && lease.endsAt <= at;
    if (lease.requestStatus === "active" && ended) {
      const result = await expireRequest(deps, { requestId: lease.requestId });
      if (result.ok) {
        report.expired.push(lease.requestId);
      }
    } else if (lease.requestStatus === "approved" && ended && !present) {
      await failOne(run, lease.requestId, await causeOfNoGrant(run, snapshot, lease, "ended"));
    }
  }
}

/**
 * Why an approved request got no access: the last thing that went wrong with the assignment since
 * the approval, or else that nothing got to it in time ("ended": its window is over; "too_late": it
 * ends within moments of when Keyturn could have sent the create, so none was sent).
 */
async function causeOfNoGrant(
  run: Run,
  snapshot: AssignmentSnapshot,
  lease: AssignmentSnapshot["leases"][number],
  when: "ended" | "too_late",
): Promise<string> {
  const principal = snapshot.identity.identityStoreUserId ?? "(not resolved)";
  const target = describeTarget(snapshot, principal);
  const attempt = await run.deps.uow.run((tx) =>
    tx.assignments.lastAttempt(run.assignmentId, { since: lease.startsAt, outcomes: ["failed", "error"] }),
  );
  if (attempt !== null) {
    const request = attempt.awsRequestId === null ? "" : ` (AWS request id ${attempt.awsRequestId})`;
    return `Keyturn could not ${attempt.operation} the assignment of ${target}: ${attempt.failureReason ?? "no reason given"}${request}`;
  }
  const window = `between the approval at ${lease.startsAt.toISOString()} and the end of the access window at ${lease.endsAt.toISOString()}`;
  return when === "too_late"
    ? `Keyturn did not create the assignment of ${target}: it got to it less than ${MIN_REMAINING_TO_CREATE_MS} ms before the end of the access window (${window}); a window that short cannot be granted, and a slow start points at a busy or paused worker queue.`
    : `No worker created the assignment of ${target} ${window}: check that a Keyturn worker is running and that its queue is not paused.`;
}
