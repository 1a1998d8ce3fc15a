import { randomUUID } from "node:crypto";
import { sessionCutoffCapacity } from "@keyturn/bucket-policy";
import { desiredState, type LeaseView } from "@keyturn/core";
import type {
  AssignmentForCutoff,
  BucketPolicyDeps,
  CutoffKey,
  CutoffTerms,
  ProtectedBucketRecord,
  SessionCutoffRecord,
} from "./bucket-policy-ports.js";
import { cutoffsFor, specNamesSet } from "./bucket-policy-support.js";
import { SYSTEM } from "./principal.js";

// Session cut-offs: Identity Center leaves live sessions running when an assignment goes, and the
// SSO portal keeps minting new ones until the removal has gone through (up to ~K/18 s for K
// removals at the quota). So when a user's grant of a permission set ends, every protected bucket
// naming the set refuses that user's sessions of that set (its role pattern + the user), from the
// lease's end until the last session issued under the ended grant has expired. Pre-armed ahead of
// the end (PREARM_LEAD_MS), with the end as the statement's start, so S3 refuses at the end by its
// own clock whatever Keyturn's latency then; armed again at the end itself (what lands it if the
// pre-arm was lost or did not fit), independently of DeleteAccountAssignment, for all leases
// ending together at once.

/** A session cut-off's deps: the bucket-policy transactions and each set's SessionDuration. */
export type SessionCutoffDeps = BucketPolicyDeps & {
  /**
   * The permission set's SessionDuration (seconds). The worker answers from its Identity Center
   * cache and falls back to the 12 h maximum when it cannot ask: too long only costs capacity.
   */
  sessionDurationSeconds(permissionSetName: string): Promise<number>;
};

/**
 * Until removal is confirmed, the ended grant may still mint sessions: the cut-off's end is
 * provisional, in steps of this, so it moves at most once per step (one PutBucketPolicy) while
 * Identity Center is slow, and not at all when the removal is confirmed within the first step.
 */
export const PROVISIONAL_STEP_MS = 10 * 60_000;
/** How far back the sweep looks for ended leases: the longest session plus a step. */
export const SWEEP_LOOKBACK_MS = 12 * 3600_000 + PROVISIONAL_STEP_MS;
/** How far back the run at a lease's end looks (leases that ended moments ago, revocations). */
export const ARM_LOOKBACK_MS = 15 * 60_000;
/**
 * How long before a lease's end its cut-off is pre-armed: room for the pre-arm's own latency (the
 * job, the 1 s put spacing, S3) under load, and for an extension to withdraw it again. A grant
 * extended within this window is refused early if that withdrawal does not land in time.
 */
export const PREARM_LEAD_MS = 60_000;
/** The SessionDuration assumed when Identity Center cannot say: the most it allows. */
export const MAX_SESSION_SECONDS = 12 * 3600;

const SECOND = 1000;
const ceilSecond = (at: Date) => new Date(Math.ceil(at.getTime() / SECOND) * SECOND);

/**
 * The cut-off an assignment's history calls for at `now`, or null. Pure.
 *
 * Access runs are the unions of its leases (start to end or release). When a run ended at E:
 * - and none runs now: every session of the set is refused. Until removal is confirmed at R,
 *   new ones may still be minted: the end is R + SessionDuration once R is known, before that a
 *   provisional E + n steps + SessionDuration that keeps moving while removal is pending.
 * - and a later run started at C (a new grant): only sessions issued before C, rounded up to
 *   the second, are refused (aws:TokenIssueTime is in whole seconds), until C + SessionDuration
 *   (R + SessionDuration if removal was confirmed before C).
 * Never for an assignment Keyturn did not create (preexisting) or a user never resolved.
 *
 * With `prearmLeadMs`, a run in progress that ends within that lead gets its cut-off ahead: the
 * terms it will have at its end E, with `startsAt` = E rounded UP to the second. S3 then refuses
 * from that second on (aws:CurrentTime >= startsAt), so never before E, and from at most 1 s after
 * it, whether AWS compares the request time to the second or finer. Leases end on whole seconds
 * (core rounds the end down at activation), so for them `startsAt` is E itself. A cut-off in force (an
 * earlier grant's, with a boundary) is kept instead: a pre-armed one never replaces it.
 */
export function cutoffTerms(
  assignment: AssignmentForCutoff,
  sessionDurationSeconds: number,
  now: Date,
  prearmLeadMs = 0,
): CutoffTerms | null {
  const armed = armedTerms(assignment, sessionDurationSeconds, now);
  if (armed !== null || prearmLeadMs <= 0) {
    return armed;
  }
  const current = accessRuns(assignment.leases).find(
    (run) => run.start <= now.getTime() && now.getTime() < run.end,
  );
  if (current === undefined || current.end > now.getTime() + prearmLeadMs) {
    return null;
  }
  const end = new Date(current.end);
  const terms = armedTerms(assignment, sessionDurationSeconds, end);
  return terms === null ? null : { ...terms, startsAt: ceilSecond(end) };
}

function armedTerms(
  assignment: AssignmentForCutoff,
  sessionDurationSeconds: number,
  now: Date,
): CutoffTerms | null {
  if (
    assignment.origin !== "keyturn" ||
    assignment.provisionIntentAt === null ||
    assignment.identity.identityStoreUserId === null
  ) {
    return null;
  }
  const runs = accessRuns(assignment.leases);
  // Access that ended before the identity was pinned to this user was another Identity Center
  // user's (re-provisioned by the identity provider): its sessions carry that user's id and stay
  // under that user's own cut-off. Held against this user, it would refuse the new user's first
  // sessions as if they were left over from an ended grant.
  const pinnedAt = assignment.identity.pinnedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  const ended = runs.filter((run) => run.end <= now.getTime() && run.end > pinnedAt);
  const last = ended.at(-1);
  if (last === undefined) {
    return null;
  }
  const endedAt = new Date(last.end);
  const duration = sessionDurationSeconds * SECOND;
  const removedAt =
    assignment.lastRemovedAt !== null && assignment.lastRemovedAt.getTime() >= last.end
      ? assignment.lastRemovedAt
      : null;
  const current = runs.find((run) => run.start <= now.getTime() && now.getTime() < run.end);
  let terms: CutoffTerms;
  if (current !== undefined) {
    const issuedBefore = ceilSecond(new Date(current.start));
    const lastIssue =
      removedAt !== null && removedAt.getTime() <= current.start ? ceilSecond(removedAt) : issuedBefore;
    terms = {
      endedAt,
      issuedBefore,
      closedAt: removedAt === null ? null : ceilSecond(removedAt),
      until: new Date(lastIssue.getTime() + duration),
      sessionDurationSeconds,
    };
  } else {
    const closedAt = removedAt === null ? null : ceilSecond(removedAt);
    const steps = Math.max(1, Math.ceil((now.getTime() - last.end) / PROVISIONAL_STEP_MS));
    const lastIssue = closedAt ?? new Date(last.end + steps * PROVISIONAL_STEP_MS);
    terms = {
      endedAt,
      issuedBefore: null,
      closedAt,
      until: new Date(lastIssue.getTime() + duration),
      sessionDurationSeconds,
    };
  }
  return terms.until > now ? terms : null;
}

/** The lease intervals merged where they overlap or touch, in order. */
function accessRuns(leases: readonly LeaseView[]): Array<{ start: number; end: number }> {
  const intervals = leases
    .map((lease) => ({
      start: lease.startsAt.getTime(),
      end: Math.min(lease.endsAt.getTime(), lease.releasedAt?.getTime() ?? Number.POSITIVE_INFINITY),
    }))
    .filter((interval) => interval.end > interval.start)
    .sort((a, b) => a.start - b.start);
  const runs: Array<{ start: number; end: number }> = [];
  for (const interval of intervals) {
    const previous = runs.at(-1);
    if (previous !== undefined && interval.start <= previous.end) {
      previous.end = Math.max(previous.end, interval.end);
    } else {
      runs.push({ ...interval });
    }
  }
  return runs;
}

export type CutoffChange = CutoffKey & {
  /** `withdrawn`: a pre-armed cut-off whose grant no longer ends then (extended, granted again). */
  change: "added" | "updated" | "expired" | "withdrawn";
  until: string;
  issuedBefore: string | null;
  /** Pre-armed: when S3 starts refusing. */
  startsAt: string | null;
};

export type RefreshReport = {
  changes: CutoffChange[];
  /** Buckets marked for an apply (a `bucket.apply` message was written for each). */
  buckets: string[];
};

const keyOf = (key: CutoffKey) => `${key.identityStoreUserId}/${key.accountId}/${key.permissionSetName}`;
const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Brings the stored cut-offs in line with the leases, in one transaction: arms the ones ended
 * leases call for, pre-arms those of leases ending within PREARM_LEAD_MS, moves their terms (a new
 * grant's boundary, the removal confirmed, a provisional end, a pre-armed one now in force),
 * withdraws pre-armed ones whose grant no longer ends then, and ends the expired. Every bucket whose policy this changes is marked dirty
 * and gets a `bucket.apply` message in the same transaction, so a crash loses nothing: the sweep
 * finds what a lost job did not do. One audit event per kind of change, listing the cut-offs.
 *
 * Which assignments: `assignmentIds`, those with a lease ended since `since`, and (`sweep`) those
 * of every cut-off in force. Idempotent: a second run changes nothing.
 */
export async function refreshSessionCutoffs(
  deps: SessionCutoffDeps,
  input: { since: Date; assignmentIds?: readonly string[]; sweep?: boolean },
): Promise<RefreshReport> {
  const now = deps.clock.now();
  const loaded = await deps.uow.run(async (tx) => ({
    buckets: await tx.buckets.list(),
    candidates: await tx.access.cutoffCandidates({
      since: input.since,
      now,
      prearmUntil: new Date(now.getTime() + PREARM_LEAD_MS),
      ...(input.assignmentIds === undefined ? {} : { ids: input.assignmentIds }),
      withActiveCutoffs: input.sweep === true,
    }),
  }));
  const protectedSet = (accountId: string, permissionSetName: string) =>
    loaded.buckets.some((bucket) => specNamesSet(bucket.spec, { accountId, permissionSetName }));
  const candidates = loaded.candidates.filter((candidate) =>
    protectedSet(candidate.accountId, candidate.permissionSetName),
  );
  if (candidates.length === 0 && input.sweep !== true) {
    return { changes: [], buckets: [] };
  }
  const durations = new Map<string, number>();
  for (const name of new Set(candidates.map((candidate) => candidate.permissionSetName))) {
    durations.set(name, await deps.sessionDurationSeconds(name));
  }
  return deps.uow.run(async (tx) => {
    const at = deps.clock.now();
    const current = new Map((await tx.cutoffs.unended()).map((row) => [keyOf(row), row]));
    const saves: Array<CutoffKey & CutoffTerms> = [];
    const changes: CutoffChange[] = [];
    const seen = new Set<string>();
    let closedOnly = true;
    for (const candidate of candidates) {
      const userId = candidate.identity.identityStoreUserId;
      if (userId === null) {
        continue;
      }
      const key: CutoffKey = {
        identityStoreUserId: userId,
        accountId: candidate.accountId,
        permissionSetName: candidate.permissionSetName,
      };
      seen.add(keyOf(key));
      const computed = cutoffTerms(
        candidate,
        durations.get(candidate.permissionSetName) ?? MAX_SESSION_SECONDS,
        at,
        PREARM_LEAD_MS,
      );
      const row = current.get(keyOf(key));
      // The same ended grant keeps the end it was armed with when removal turns out quicker than
      // the provisional step: a cut-off never shortens (that would be one more PutBucketPolicy per
      // bucket for every removal confirmed), it only lasts up to a step longer than it must.
      const terms =
        computed !== null &&
        row !== undefined &&
        sameTime(row.endedAt, computed.endedAt) &&
        sameTime(row.issuedBefore, computed.issuedBefore) &&
        row.until > computed.until
          ? { ...computed, until: row.until }
          : computed;
      if (terms === null) {
        if (row !== undefined && row.until <= at) {
          // Rows of other users (an identity re-pinned since) are left to expire on their own.
          changes.push(change(key, "expired", row));
        } else if (row !== undefined && row.startsAt !== null) {
          // Pre-armed for an end that no longer comes (extended, or granted again): withdrawn,
          // before it starts or the user is refused early; and if this run comes only after it
          // has started (the run lagged), at once, or the user would stay refused for hours.
          changes.push(change(key, "withdrawn", row));
        }
        continue;
      }
      if (row !== undefined && sameTerms(row, terms)) {
        continue;
      }
      if (row !== undefined) {
        closedOnly &&=
          sameTime(row.until, terms.until) &&
          sameTime(row.issuedBefore, terms.issuedBefore) &&
          sameTime(row.startsAt, terms.startsAt ?? null) &&
          !sameTime(row.closedAt, terms.closedAt);
      } else {
        closedOnly = false;
      }
      saves.push({ ...key, ...terms });
      changes.push(change(key, row === undefined ? "added" : "updated", terms));
    }
    if (input.sweep === true) {
      for (const row of current.values()) {
        if (!seen.has(keyOf(row)) && row.until <= at) {
          changes.push(change(row, "expired", row));
        }
      }
    }
    if (changes.length === 0) {
      return { changes, buckets: [] };
    }
    const expired = changes.filter((entry) => entry.change === "expired" || entry.change === "withdrawn");
    if (expired.length > 0) {
      closedOnly = false;
      await tx.cutoffs.remove({ keys: expired, at });
    }
    if (saves.length > 0) {
      await tx.cutoffs.save({ cutoffs: saves, at });
    }
    for (const kind of ["added", "updated", "expired", "withdrawn"] as const) {
      const entries = changes.filter((entry) => entry.change === kind);
      if (entries.length > 0) {
        await tx.audit.append({
          actor: SYSTEM,
          action: `session_cutoff.${kind}`,
          data: { cutoffs: entries.map(({ change: _kind, ...entry }) => entry) },
        });
      }
    }
    // A removal confirmed (closedAt) changes nothing in a policy that lists every cut-off by user.
    const buckets = loaded.buckets
      .filter((bucket) => changes.some((entry) => specNamesSet(bucket.spec, entry)))
      .filter((bucket) => !(closedOnly && bucket.cutoffsRoleWide === 0))
      .map((bucket) => bucket.name);
    await requestApplies(tx, buckets, at);
    return { changes, buckets };
  });
}

function change(
  key: CutoffKey,
  kind: CutoffChange["change"],
  terms: { until: Date; issuedBefore: Date | null; startsAt?: Date | null },
): CutoffChange {
  return {
    identityStoreUserId: key.identityStoreUserId,
    accountId: key.accountId,
    permissionSetName: key.permissionSetName,
    change: kind,
    until: terms.until.toISOString(),
    issuedBefore: terms.issuedBefore?.toISOString() ?? null,
    startsAt: terms.startsAt?.toISOString() ?? null,
  };
}

function sameTerms(row: SessionCutoffRecord, terms: CutoffTerms): boolean {
  return (
    sameTime(row.until, terms.until) &&
    sameTime(row.issuedBefore, terms.issuedBefore) &&
    sameTime(row.closedAt, terms.closedAt) &&
    sameTime(row.endedAt, terms.endedAt) &&
    sameTime(row.startsAt, terms.startsAt ?? null) &&
    row.sessionDurationSeconds === terms.sessionDurationSeconds
  );
}

type Tx = Parameters<Parameters<BucketPolicyDeps["uow"]["run"]>[0]>[0];

/** Marks the buckets dirty and writes one `bucket.apply` message each, in the caller's transaction. */
async function requestApplies(tx: Tx, names: readonly string[], at: Date): Promise<void> {
  if (names.length === 0) {
    return;
  }
  await tx.buckets.markDirty({ names, at });
  for (const name of names) {
    await tx.outbox.add({
      topic: "bucket.apply",
      key: `apply:${name}:${randomUUID()}`,
      payload: { bucket: name },
    });
  }
}

/**
 * Before an assignment is granted: if the user's sessions of the set are cut off from an earlier
 * grant, the cut-off must first take its boundary (only sessions issued before the new grant
 * refused), and that must be in every bucket's policy, or the new grant's sessions would be
 * refused. Answers the boundary (the grant must not be created before it, so that every session
 * it issues is on the right side of it) and the buckets whose policy must be applied first.
 */
export async function prepareGrant(
  deps: SessionCutoffDeps,
  input: { assignmentId: string },
): Promise<{ boundary: Date | null; buckets: string[] }> {
  const now = deps.clock.now();
  const assignment = await deps.uow.run((tx) => tx.access.assignment(input.assignmentId));
  if (assignment === null || !desiredState(assignment.origin, assignment.leases, now).present) {
    return { boundary: null, buckets: [] };
  }
  const userId = assignment.identity.identityStoreUserId;
  if (userId === null) {
    return { boundary: null, buckets: [] };
  }
  await refreshSessionCutoffs(deps, { since: now, assignmentIds: [input.assignmentId] });
  return deps.uow.run(async (tx) => {
    const key = {
      identityStoreUserId: userId,
      accountId: assignment.accountId,
      permissionSetName: assignment.permissionSetName,
    };
    const row = await tx.cutoffs.find(key);
    if (row === null || row.removedAt !== null || row.until <= deps.clock.now()) {
      return { boundary: null, buckets: [] };
    }
    const buckets = (await tx.buckets.list())
      .filter((bucket) => bucket.dirtySince !== null && specNamesSet(bucket.spec, key))
      .map((bucket) => bucket.name);
    return { boundary: row.issuedBefore, buckets };
  });
}

/**
 * Buckets whose wanted change has waited longer than `olderThanMs` (its job lost with Redis, or
 * S3 refusing): the sweep applies them again.
 */
export async function staleBuckets(
  deps: BucketPolicyDeps,
  input: { olderThanMs: number },
): Promise<string[]> {
  const now = deps.clock.now().getTime();
  const buckets = await deps.uow.run((tx) => tx.buckets.list());
  return buckets
    .filter((bucket) => bucket.dirtySince !== null && now - bucket.dirtySince.getTime() >= input.olderThanMs)
    .map((bucket) => bucket.name);
}

export type BucketCutoffStatus = {
  bucket: string;
  /** Cut-offs in force that concern the bucket (pre-armed ones not yet started excluded). */
  cutoffs: number;
  /** Pre-armed cut-offs that concern the bucket, not yet started (S3 refuses from their start). */
  prearmed: number;
  /** How many fit listed by user (the alert threshold is a share of it). */
  capacity: number;
  /** Cut-offs the last applied policy wrote role-wide (overflow). */
  roleWide: number;
  /** Seconds a wanted change has waited to land (0: none waiting). */
  pendingSeconds: number;
  /** Seconds the applies have been failing (0: the last one worked). */
  failingSeconds: number;
};

/** What /metrics shows per protected bucket. */
export async function sessionCutoffStatus(deps: BucketPolicyDeps): Promise<BucketCutoffStatus[]> {
  const now = deps.clock.now();
  const { buckets, active } = await deps.uow.run(async (tx) => ({
    buckets: await tx.buckets.list(),
    active: await tx.cutoffs.active(now),
  }));
  const age = (since: Date | null) =>
    since === null ? 0 : Math.max(0, (now.getTime() - since.getTime()) / 1000);
  const started = active.filter((cutoff) => cutoff.startsAt === null || cutoff.startsAt <= now);
  const ahead = active.filter((cutoff) => cutoff.startsAt !== null && cutoff.startsAt > now);
  return buckets.map((bucket: ProtectedBucketRecord) => ({
    bucket: bucket.name,
    cutoffs: cutoffsFor(bucket.spec, started).length,
    prearmed: cutoffsFor(bucket.spec, ahead).length,
    capacity: capacityOf(bucket),
    roleWide: bucket.cutoffsRoleWide,
    pendingSeconds: age(bucket.dirtySince),
    failingSeconds: age(bucket.applyFailingSince),
  }));
}

// Generating a policy a few dozen times per bucket is not free: remembered per spec.
const capacities = new Map<string, number>();

function capacityOf(bucket: ProtectedBucketRecord): number {
  const key = JSON.stringify(bucket.spec);
  let capacity = capacities.get(key);
  if (capacity === undefined) {
    capacity = sessionCutoffCapacity(bucket.spec);
    if (capacities.size > 1000) {
      capacities.clear();
    }
    capacities.set(key, capacity);
  }
  return capacity;
}
