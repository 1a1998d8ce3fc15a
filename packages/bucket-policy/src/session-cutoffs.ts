import type { JsonStatement } from "./canonical.js";
import { DENY_ENDED_SESSIONS_SID } from "./capabilities.js";
import { compareText, permissionSetPatterns, type SessionCutoff } from "./spec.js";

// The DenyEndedSessions statements: how the cut-offs in force become policy text, compactly, and
// how they degrade (fold into role-wide denies) when they would not fit in S3's 20 KB.
//
// A cut-off refuses the sessions of ONE permission set's role (its `aws:PrincipalArn` patterns)
// whose `identitystore:userId` is the ended user. With `issuedBefore` (the user holds the set
// again under a new grant), only sessions whose `aws:TokenIssueTime` is before that instant are
// refused, so the new grant's sessions work while the old ones stay refused. Each statement also
// lapses by itself (`aws:CurrentTime` before the last `until` it carries), so a Keyturn that
// stopped running locks nobody out for good. A pre-armed cut-off (`from`) is written before the
// grant ends, with its start as a condition (`aws:CurrentTime` at or after `from`), so S3 itself
// starts refusing at the end, whatever Keyturn's latency then; it is its own statement, never
// folded.

/** How a permission set's cut-offs are written: one entry per user, or role-wide. */
export type CutoffFold =
  /** Every cut-off listed by user. */
  | "none"
  /**
   * Cut-offs whose grant can mint no new session (`issuedBefore` or `closedAt` set) become one
   * role-wide deny of the set's sessions issued before the latest of those instants: entitled
   * holders of the set with older sessions are refused too and must sign in again. The others
   * stay listed by user.
   */
  | "closed"
  /** One role-wide deny of every session of the set: nobody can use it until the next apply. */
  | "all";

/** What the generator did with the cut-offs, for the caller's audit, metrics and alerts. */
export type CutoffLayout = {
  /** Cut-offs written one entry per user (pre-armed ones included). */
  listed: number;
  /** Pre-armed cut-offs written (`from` in the future: S3 starts refusing at it by its clock). */
  prearmed: number;
  /** Pre-armed cut-offs left out for room: they are armed at the grant's end instead. */
  prearmDeferred: number;
  /** Sets whose cut-offs were folded into role-wide denies (overflow), with what was folded. */
  roleWide: Array<{
    accountId: string;
    permissionSet: string;
    fold: Exclude<CutoffFold, "none">;
    /** Sessions issued before this are refused for every holder of the set; null: all sessions. */
    issuedBefore: string | null;
    cutoffs: number;
  }>;
};

type SetCutoffs = { accountId: string; permissionSet: string; entries: SessionCutoff[] };

const setKey = (cutoff: { accountId: string; permissionSet: string }) =>
  `${cutoff.accountId}/${cutoff.permissionSet}`;

/** Cut-offs by permission set, in a fixed order (account, then set name). */
export function groupCutoffs(cutoffs: readonly SessionCutoff[]): SetCutoffs[] {
  const sets = new Map<string, SetCutoffs>();
  for (const cutoff of cutoffs) {
    const key = setKey(cutoff);
    const set = sets.get(key) ?? {
      accountId: cutoff.accountId,
      permissionSet: cutoff.permissionSet,
      entries: [],
    };
    set.entries.push(cutoff);
    sets.set(key, set);
  }
  return [...sets.entries()].sort(([a], [b]) => compareText(a, b)).map(([, set]) => set);
}

/** The instant after which the ended grant can mint no session, when known. */
const closedBy = (cutoff: SessionCutoff): string | undefined => cutoff.issuedBefore ?? cutoff.closedAt;

const latest = (instants: readonly string[]): string =>
  instants.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));

/**
 * Identity Store user ids are a UUID, optionally after a 10-hex-digit prefix (47 characters, the
 * common form). The UUID alone identifies the user (random, unique in the store), so such an id
 * is written `*<uuid>` under StringLike: 37 characters instead of 47, about a fifth more cut-offs
 * per policy. Ids of any other form are written as they are (they hold no wildcard: spec.ts).
 */
export function compactUserId(id: string): string {
  return /^[0-9a-f]{10}-[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(id)
    ? `*${id.slice(10)}`
    : id;
}

/**
 * The statements for the cut-offs, folded per set as `folds` says (default: none). Sids are
 * `DenyEndedSessions1`, `2`, ... in a fixed order, so the same cut-offs give the same bytes.
 */
export function cutoffStatements(
  sets: readonly SetCutoffs[],
  resources: readonly string[],
  folds: ReadonlyMap<string, CutoffFold> = new Map(),
): { statements: JsonStatement[]; layout: CutoffLayout } {
  const statements: JsonStatement[] = [];
  const layout: CutoffLayout = { listed: 0, prearmed: 0, prearmDeferred: 0, roleWide: [] };
  const add = (
    set: SetCutoffs,
    entries: readonly SessionCutoff[],
    issuedBefore: string | null,
    users: readonly string[] | null,
    from: string | null = null,
  ) => {
    const times: Record<string, string> = {
      "aws:CurrentTime": latest(entries.map((entry) => entry.until)),
    };
    if (issuedBefore !== null) {
      times["aws:TokenIssueTime"] = issuedBefore;
    }
    statements.push({
      Sid: `${DENY_ENDED_SESSIONS_SID}${statements.length + 1}`,
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:*",
      Resource: [...resources],
      Condition: {
        ArnLike: { "aws:PrincipalArn": permissionSetPatterns(set.accountId, set.permissionSet) },
        DateLessThan: times,
        // At or after: `from` is the grant's end rounded UP to the second, so the statement never
        // refuses before the end, whether AWS compares the request time to the second or finer.
        ...(from === null ? {} : { DateGreaterThanEquals: { "aws:CurrentTime": from } }),
        ...(users === null
          ? {}
          : {
              StringLike: {
                "identitystore:userId": [...new Set(users.map(compactUserId))].sort(compareText),
              },
            }),
      },
    });
  };
  const listByBoundary = (set: SetCutoffs, entries: readonly SessionCutoff[]) => {
    // One statement per (boundary, start): "" (every session refused / in force now) sorts first.
    const groups = new Map<
      string,
      { boundary: string | null; from: string | null; entries: SessionCutoff[] }
    >();
    for (const entry of entries) {
      const key = `${entry.issuedBefore ?? ""}|${entry.from ?? ""}`;
      const group = groups.get(key) ?? {
        boundary: entry.issuedBefore ?? null,
        from: entry.from ?? null,
        entries: [],
      };
      group.entries.push(entry);
      groups.set(key, group);
    }
    const order = (a: { boundary: string | null; from: string | null }, b: typeof a) =>
      compareText(a.boundary ?? "", b.boundary ?? "") || compareText(a.from ?? "", b.from ?? "");
    for (const group of [...groups.values()].sort(order)) {
      add(
        set,
        group.entries,
        group.boundary,
        group.entries.map((entry) => entry.identityStoreUserId),
        group.from,
      );
      layout.listed += group.entries.length;
      if (group.from !== null) {
        layout.prearmed += group.entries.length;
      }
    }
  };
  for (const set of sets) {
    const fold = folds.get(setKey(set)) ?? "none";
    if (fold === "none") {
      listByBoundary(set, set.entries);
      continue;
    }
    // A pre-armed cut-off is never folded: a role-wide deny would refuse the set's holders before
    // the grant has even ended. Left out, it is armed at the end (the generator leaves them out
    // before it folds anything; this only guards the rule).
    const inForce = set.entries.filter((entry) => entry.from === undefined);
    layout.prearmDeferred += set.entries.length - inForce.length;
    if (inForce.length === 0) {
      continue;
    }
    if (fold === "all") {
      add(set, inForce, null, null);
      layout.roleWide.push({
        accountId: set.accountId,
        permissionSet: set.permissionSet,
        fold,
        issuedBefore: null,
        cutoffs: inForce.length,
      });
    } else {
      const closed = inForce.filter((entry) => closedBy(entry) !== undefined);
      const open = inForce.filter((entry) => closedBy(entry) === undefined);
      listByBoundary(set, open);
      if (closed.length > 0) {
        const boundary = latest(closed.map((entry) => closedBy(entry) ?? entry.until));
        add(set, closed, boundary, null);
        layout.roleWide.push({
          accountId: set.accountId,
          permissionSet: set.permissionSet,
          fold,
          issuedBefore: boundary,
          cutoffs: closed.length,
        });
      }
    }
  }
  return { statements, layout };
}

/**
 * The next, wider fold that frees room, or undefined when everything is role-wide already. Sets
 * whose ended grants are all closed are folded first (their holders only need to sign in again);
 * closing a set to everyone is the last resort. Within each step, the set with the most cut-offs
 * goes first, as it frees the most room.
 */
export function nextFold(
  sets: readonly SetCutoffs[],
  folds: ReadonlyMap<string, CutoffFold>,
): Map<string, CutoffFold> | undefined {
  const foldOf = (set: SetCutoffs) => folds.get(setKey(set)) ?? "none";
  const closedCount = (set: SetCutoffs) =>
    set.entries.filter((entry) => closedBy(entry) !== undefined).length;
  const byMost = (count: (set: SetCutoffs) => number) => (a: SetCutoffs, b: SetCutoffs) =>
    count(b) - count(a) || compareText(setKey(a), setKey(b));
  const closable = sets
    .filter((set) => foldOf(set) === "none" && closedCount(set) > 0)
    .sort(byMost(closedCount));
  const pick = closable[0];
  if (pick !== undefined) {
    return new Map(folds).set(setKey(pick), "closed");
  }
  const openable = sets.filter((set) => foldOf(set) !== "all").sort(byMost((set) => set.entries.length));
  const last = openable[0];
  return last === undefined ? undefined : new Map(folds).set(setKey(last), "all");
}
