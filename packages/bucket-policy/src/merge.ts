import { type JsonPolicy, type JsonStatement, policyFingerprint, statementFingerprint } from "./canonical.js";
import { isOwnedSid } from "./capabilities.js";
import { finish, type GeneratedPolicy, type PolicyTooLarge } from "./generate.js";
import { parsePolicy } from "./policy.js";

/** A statement someone other than Keyturn put in the live policy; `index` is its position there. */
export type ForeignStatement = { index: number; sid: string | null; statement: JsonStatement };

/** Owned statements are matched by Sid; foreign ones are listed whole. */
export type PolicyDiff = {
  added: Array<{ sid: string; statement: JsonStatement }>;
  removed: Array<{ sid: string; statement: JsonStatement }>;
  changed: Array<{ sid: string; live: JsonStatement; generated: JsonStatement }>;
  unchanged: string[];
  foreign: ForeignStatement[];
};

export type PolicyPlan = {
  diff: PolicyDiff;
  /** What to send with PutBucketPolicy: the generated statements, then the foreign ones kept. */
  merged: GeneratedPolicy;
  /** Foreign statements left out of `merged` because the caller asked to drop them. */
  dropped: ForeignStatement[];
  /** Keyturn's statements in the live policy are exactly the generated ones. */
  inSync: boolean;
  /** Applying `merged` would change what the bucket's policy means. */
  changesLive: boolean;
};

export type PlanError = { code: "INVALID_LIVE_POLICY"; message: string } | PolicyTooLarge;
export type PlanResult = { ok: true; value: PolicyPlan } | { ok: false; error: PlanError };

export type ReadLiveResult =
  | { ok: true; value: { policy: JsonPolicy } }
  | { ok: false; error: { code: "INVALID_LIVE_POLICY"; message: string } };

/** Parses a bucket policy as S3 returned it; `null` (no policy) is an empty one. */
export function readLivePolicy(live: string | null): ReadLiveResult {
  if (live === null) {
    return { ok: true, value: { policy: { Statement: [] } } };
  }
  let document: unknown;
  try {
    document = JSON.parse(live);
  } catch {
    return {
      ok: false,
      error: { code: "INVALID_LIVE_POLICY", message: "the live bucket policy is not JSON" },
    };
  }
  const parsed = parsePolicy(document, "resource");
  if (!parsed.ok) {
    return {
      ok: false,
      error: {
        code: "INVALID_LIVE_POLICY",
        message: `the live bucket policy is invalid: ${parsed.error.message}`,
      },
    };
  }
  // parsePolicy has checked the shape; keep the raw statements so foreign ones go back unchanged.
  const raw = (document as { Version?: string; Id?: string; Statement: unknown }).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]) as JsonStatement[];
  const { Version, Id } = document as { Version?: string; Id?: string };
  return {
    ok: true,
    value: {
      policy: {
        ...(Version === undefined ? {} : { Version }),
        ...(Id === undefined ? {} : { Id }),
        Statement: statements,
      },
    },
  };
}

/**
 * Compares the live policy with the generated one and builds the policy to apply. Statements
 * with one of the generator's Sids are Keyturn's and are replaced; every other statement is
 * someone else's: it is kept and listed, and dropped only when `dropForeign` says so.
 */
export function planBucketPolicy(input: {
  live: string | null;
  generated: JsonPolicy;
  dropForeign?: boolean;
}): PlanResult {
  const read = readLivePolicy(input.live);
  if (!read.ok) {
    return read;
  }
  const live = read.value.policy;
  const ownedLive = new Map<string, JsonStatement>();
  const diff: PolicyDiff = { added: [], removed: [], changed: [], unchanged: [], foreign: [] };
  live.Statement.forEach((statement, index) => {
    const sid = typeof statement.Sid === "string" ? statement.Sid : undefined;
    if (sid === undefined || !isOwnedSid(sid)) {
      diff.foreign.push({ index, sid: sid ?? null, statement });
    } else if (ownedLive.has(sid)) {
      // A second copy of one of our statements: the applied policy keeps only one.
      diff.removed.push({ sid, statement });
    } else {
      ownedLive.set(sid, statement);
    }
  });
  const generatedSids = new Set<string>();
  for (const statement of input.generated.Statement) {
    const sid = String(statement.Sid);
    generatedSids.add(sid);
    const current = ownedLive.get(sid);
    if (current === undefined) {
      diff.added.push({ sid, statement });
    } else if (statementFingerprint(current) === statementFingerprint(statement)) {
      diff.unchanged.push(sid);
    } else {
      diff.changed.push({ sid, live: current, generated: statement });
    }
  }
  for (const [sid, statement] of ownedLive) {
    if (!generatedSids.has(sid)) {
      diff.removed.push({ sid, statement });
    }
  }
  const dropForeign = input.dropForeign === true;
  const merged = finish({
    ...input.generated,
    Statement: [...input.generated.Statement, ...(dropForeign ? [] : diff.foreign.map((f) => f.statement))],
  });
  if (!merged.ok) {
    return merged;
  }
  return {
    ok: true,
    value: {
      diff,
      merged: merged.value,
      dropped: dropForeign ? diff.foreign : [],
      inSync: diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0,
      changesLive: input.live === null || policyFingerprint(merged.value.policy) !== policyFingerprint(live),
    },
  };
}

/** The live policy's meaning as text (see policyFingerprint), or an error if it cannot be read. */
export function livePolicyFingerprint(
  live: string | null,
):
  | { ok: true; value: string | null }
  | { ok: false; error: { code: "INVALID_LIVE_POLICY"; message: string } } {
  if (live === null) {
    return { ok: true, value: null };
  }
  const read = readLivePolicy(live);
  return read.ok ? { ok: true, value: policyFingerprint(read.value.policy) } : read;
}
