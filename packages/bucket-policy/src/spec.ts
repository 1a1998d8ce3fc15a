import { CAPABILITIES, type Capability } from "./capabilities.js";

/**
 * Who holds a capability: an IAM role by exact ARN, or the role Identity Center creates for a
 * permission set in an account (`accountId` falls back to the spec's own).
 */
export type PrincipalRef = { roleArn: string } | { permissionSet: string; accountId?: string };

/**
 * A user whose sessions of one permission set are refused until `until` (ISO 8601), though the
 * set's role still matches: their grant of the set ended while sessions issued under it live on.
 * - `issuedBefore`: the user holds the set again under a new grant; only sessions issued
 *   (`aws:TokenIssueTime`) before this instant are refused. Absent: every session is refused.
 * - `closedAt`: Identity Center has removed the ended assignment, so no session of the ended grant
 *   was issued after this instant. It changes nothing while the cut-off is listed by user; it
 *   bounds the role-wide deny the cut-off folds into when the policy would not fit otherwise.
 * - `from`: pre-armed. The grant has not ended yet; S3 starts refusing at this instant by its own
 *   clock (`aws:CurrentTime`), whatever Keyturn's latency then. Absent: in force now. A pre-armed
 *   cut-off is written only when it fits as it is (never folded role-wide, never in place of one
 *   in force): left out, it is armed at the grant's end instead.
 */
export type SessionCutoff = {
  identityStoreUserId: string;
  accountId: string;
  permissionSet: string;
  until: string;
  issuedBefore?: string;
  closedAt?: string;
  from?: string;
};

/** The declarative description of one bucket's policy. */
export type BucketSpec = {
  bucket: string;
  /** The bucket's account, and the default account of permission-set principals. */
  accountId?: string;
  capabilities: Partial<Record<Capability, readonly PrincipalRef[]>>;
  /** Deny uploads that are not SSE-KMS encrypted. Default true. */
  kmsRequired?: boolean;
  /**
   * The KMS key (its ARN) every upload must use: an upload naming another key, or SSE-KMS without
   * naming it, is refused, and the bucket's default encryption must be this key.
   */
  kmsKeyArn?: string;
  sessionCutoffs?: readonly SessionCutoff[];
};

export type SpecProblem = { path: string; message: string };
export type ParseSpecResult =
  | { ok: true; spec: BucketSpec }
  | { ok: false; error: { code: "INVALID_SPEC"; message: string; problems: SpecProblem[] } };

/** A principal with its account resolved, as the generator and the analysis use it. */
export type ResolvedPrincipal =
  | { kind: "role"; arn: string }
  | { kind: "permission-set"; accountId: string; name: string };

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ACCOUNT_ID = /^\d{12}$/;
/** Identity Center's rule for permission set names (CreatePermissionSet). */
const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;
// IAM allows more characters in paths than this, wildcards included; a role whose path holds `*`
// or `?` would become a pattern in an ArnEquals condition, so such ARNs are refused outright.
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const SSO_ROLE_PATH = ":role/aws-reserved/sso.amazonaws.com/";
const USER_ID = /^[A-Za-z0-9-]{1,64}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

// A key ARN, not an alias or a bare key id: the condition compares the request's header as sent,
// and an alias is resolved in the caller's account.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

const SPEC_KEYS = ["bucket", "accountId", "capabilities", "kmsRequired", "kmsKeyArn", "sessionCutoffs"];

/**
 * Checks a spec (parsed JSON) and returns it normalized: principals deduplicated and sorted,
 * permission-set accounts filled in, cut-offs sorted. Every problem is reported, not only the first.
 */
export function parseBucketSpec(input: unknown): ParseSpecResult {
  const problems: SpecProblem[] = [];
  const problem = (path: string, message: string) => {
    problems.push({ path, message });
  };
  if (!isRecord(input)) {
    return invalid([{ path: "", message: "must be an object" }]);
  }
  for (const key of Object.keys(input)) {
    if (!SPEC_KEYS.includes(key)) {
      problem(key, `is not a known field (expected ${SPEC_KEYS.join(", ")})`);
    }
  }
  const bucket = input.bucket;
  if (typeof bucket !== "string" || !isBucketName(bucket)) {
    problem("bucket", "must be an S3 bucket name (3-63 of a-z, 0-9, '.', '-')");
  }
  const accountId = input.accountId;
  if (accountId !== undefined && (typeof accountId !== "string" || !ACCOUNT_ID.test(accountId))) {
    problem("accountId", "must be a 12-digit AWS account id");
  }
  const defaultAccount = typeof accountId === "string" && ACCOUNT_ID.test(accountId) ? accountId : undefined;
  const kmsRequired = input.kmsRequired;
  if (kmsRequired !== undefined && typeof kmsRequired !== "boolean") {
    problem("kmsRequired", "must be true or false");
  }
  const kmsKeyArn = input.kmsKeyArn;
  if (kmsKeyArn !== undefined && (typeof kmsKeyArn !== "string" || !KMS_KEY_ARN.test(kmsKeyArn))) {
    problem(
      "kmsKeyArn",
      "must be a KMS key ARN (arn:aws:kms:<region>:<12 digits>:key/<key id>), not an alias",
    );
  } else if (kmsKeyArn !== undefined && kmsRequired === false) {
    problem("kmsKeyArn", "pins a key, so kmsRequired cannot be false");
  }

  const capabilities: Partial<Record<Capability, PrincipalRef[]>> = {};
  let principals = 0;
  if (!isRecord(input.capabilities)) {
    problem("capabilities", "must be an object mapping capabilities to principals");
  } else {
    for (const [name, refs] of Object.entries(input.capabilities)) {
      const path = `capabilities.${name}`;
      const capability = CAPABILITIES.find((known) => known === name);
      if (capability === undefined) {
        problem(path, `is not a capability (expected one of ${CAPABILITIES.join(", ")})`);
        continue;
      }
      if (!Array.isArray(refs)) {
        problem(path, "must be a list of principals");
        continue;
      }
      const parsed = refs.flatMap((ref: unknown, index) => {
        const read = readPrincipal(ref, `${path}[${index}]`, defaultAccount);
        if (!read.ok) {
          problems.push(read.problem);
          return [];
        }
        return [read.ref];
      });
      capabilities[capability] = sortPrincipals(parsed);
      principals += parsed.length;
    }
    if (principals === 0 && problems.length === 0) {
      // A policy that names nobody denies everyone, Keyturn included, and cannot be undone
      // without the account's root user.
      problem("capabilities", "must name at least one principal");
    }
  }

  const cutoffs = readCutoffs(input.sessionCutoffs, problem);
  if (problems.length > 0) {
    return invalid(problems);
  }
  return {
    ok: true,
    spec: {
      bucket: bucket as string,
      ...(defaultAccount === undefined ? {} : { accountId: defaultAccount }),
      capabilities,
      ...(kmsRequired === undefined ? {} : { kmsRequired: kmsRequired as boolean }),
      ...(kmsKeyArn === undefined ? {} : { kmsKeyArn: kmsKeyArn as string }),
      ...(cutoffs === undefined ? {} : { sessionCutoffs: cutoffs }),
    },
  };
}

function invalid(problems: SpecProblem[]): ParseSpecResult {
  const first = problems[0];
  const summary =
    first === undefined ? "invalid" : `${first.path === "" ? "spec" : first.path} ${first.message}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return {
    ok: false,
    error: { code: "INVALID_SPEC", message: `invalid bucket spec: ${summary}${more}`, problems },
  };
}

type ReadPrincipal = { ok: true; ref: PrincipalRef } | { ok: false; problem: SpecProblem };

function readPrincipal(value: unknown, path: string, defaultAccount: string | undefined): ReadPrincipal {
  const fail = (at: string, message: string): ReadPrincipal => ({
    ok: false,
    problem: { path: at, message },
  });
  if (!isRecord(value)) {
    return fail(path, 'must be { "roleArn": ... } or { "permissionSet": ..., "accountId": ... }');
  }
  const keys = Object.keys(value).sort().join(",");
  if (keys === "roleArn") {
    const arn = value.roleArn;
    if (typeof arn !== "string" || !ROLE_ARN.test(arn)) {
      return fail(`${path}.roleArn`, "must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)");
    }
    if (arn.includes(SSO_ROLE_PATH)) {
      return fail(
        `${path}.roleArn`,
        "names an Identity Center role, which is recreated with a new suffix: use { permissionSet, accountId }",
      );
    }
    return { ok: true, ref: { roleArn: arn } };
  }
  if (keys === "permissionSet" || keys === "accountId,permissionSet") {
    const name = value.permissionSet;
    if (typeof name !== "string" || !PERMISSION_SET_NAME.test(name)) {
      return fail(
        `${path}.permissionSet`,
        "must be a permission set name (1-32 of letters, digits, +=,.@_-)",
      );
    }
    const account = value.accountId ?? defaultAccount;
    if (typeof account !== "string" || !ACCOUNT_ID.test(account)) {
      return fail(
        `${path}.accountId`,
        value.accountId === undefined
          ? "is required when the spec has no accountId"
          : "must be a 12-digit AWS account id",
      );
    }
    return { ok: true, ref: { permissionSet: name, accountId: account } };
  }
  return fail(path, 'must have either "roleArn" or "permissionSet" (with an optional "accountId")');
}

const CUTOFF_KEYS = [
  "accountId",
  "closedAt",
  "from",
  "identityStoreUserId",
  "issuedBefore",
  "permissionSet",
  "until",
];
const CUTOFF_REQUIRED = ["accountId", "identityStoreUserId", "permissionSet", "until"];

function readCutoffs(
  value: unknown,
  problem: (path: string, message: string) => void,
): SessionCutoff[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    problem("sessionCutoffs", "must be a list");
    return undefined;
  }
  const cutoffs: SessionCutoff[] = [];
  value.forEach((entry: unknown, index) => {
    const path = `sessionCutoffs[${index}]`;
    const keys = isRecord(entry) ? Object.keys(entry) : [];
    if (
      !isRecord(entry) ||
      !keys.every((key) => CUTOFF_KEYS.includes(key)) ||
      !CUTOFF_REQUIRED.every((key) => keys.includes(key))
    ) {
      problem(
        path,
        'must be { "identityStoreUserId", "accountId", "permissionSet", "until" } with optional "issuedBefore", "closedAt", "from"',
      );
      return;
    }
    const { identityStoreUserId, accountId, permissionSet } = entry;
    if (typeof identityStoreUserId !== "string" || !USER_ID.test(identityStoreUserId)) {
      problem(`${path}.identityStoreUserId`, "must be an Identity Store user id");
      return;
    }
    if (typeof accountId !== "string" || !ACCOUNT_ID.test(accountId)) {
      problem(`${path}.accountId`, "must be a 12-digit AWS account id");
      return;
    }
    if (typeof permissionSet !== "string" || !PERMISSION_SET_NAME.test(permissionSet)) {
      problem(`${path}.permissionSet`, "must be a permission set name");
      return;
    }
    const instants: Record<string, string> = {};
    for (const key of ["until", "issuedBefore", "closedAt", "from"] as const) {
      const instant = entry[key];
      if (instant === undefined && key !== "until") {
        continue;
      }
      if (typeof instant !== "string" || !ISO_DATE_TIME.test(instant) || Number.isNaN(Date.parse(instant))) {
        problem(`${path}.${key}`, "must be an ISO 8601 date-time with an offset");
        return;
      }
      instants[key] = new Date(instant).toISOString();
    }
    cutoffs.push({
      identityStoreUserId,
      accountId,
      permissionSet,
      until: instants.until ?? "",
      ...(instants.issuedBefore === undefined ? {} : { issuedBefore: instants.issuedBefore }),
      ...(instants.closedAt === undefined ? {} : { closedAt: instants.closedAt }),
      ...(instants.from === undefined ? {} : { from: instants.from }),
    });
  });
  return sortCutoffs(cutoffs);
}

/**
 * One entry per (user, set), sorted. Should one come twice, the merge refuses more, never less:
 * the later `until`, every session refused if either refuses them all (else the later boundary),
 * a `closedAt` only if both know one (the later), and a `from` only if both are pre-armed (the
 * earlier: in force now if either is).
 */
function sortCutoffs(cutoffs: readonly SessionCutoff[]): SessionCutoff[] {
  const later = (a: string | undefined, b: string | undefined) =>
    a === undefined || b === undefined ? undefined : Date.parse(b) > Date.parse(a) ? b : a;
  const merged = new Map<string, SessionCutoff>();
  for (const cutoff of cutoffs) {
    const key = `${cutoff.accountId}/${cutoff.permissionSet}/${cutoff.identityStoreUserId}`;
    const seen = merged.get(key);
    if (seen === undefined) {
      merged.set(key, cutoff);
      continue;
    }
    const issuedBefore = later(seen.issuedBefore, cutoff.issuedBefore);
    const closedAt = later(seen.closedAt, cutoff.closedAt);
    const from =
      seen.from === undefined || cutoff.from === undefined
        ? undefined
        : Date.parse(cutoff.from) < Date.parse(seen.from)
          ? cutoff.from
          : seen.from;
    merged.set(key, {
      identityStoreUserId: cutoff.identityStoreUserId,
      accountId: cutoff.accountId,
      permissionSet: cutoff.permissionSet,
      until: later(seen.until, cutoff.until) ?? cutoff.until,
      ...(issuedBefore === undefined ? {} : { issuedBefore }),
      ...(closedAt === undefined ? {} : { closedAt }),
      ...(from === undefined ? {} : { from }),
    });
  }
  return [...merged.entries()].sort(([a], [b]) => compareText(a, b)).map(([, cutoff]) => cutoff);
}

function sortPrincipals(refs: readonly PrincipalRef[]): PrincipalRef[] {
  const byKey = new Map(refs.map((ref) => [principalKey(ref), ref]));
  return [...byKey.entries()].sort(([a], [b]) => compareText(a, b)).map(([, ref]) => ref);
}

function principalKey(ref: PrincipalRef): string {
  return "roleArn" in ref ? `role ${ref.roleArn}` : `set ${ref.accountId ?? ""} ${ref.permissionSet}`;
}

export function resolvePrincipal(ref: PrincipalRef, defaultAccount: string | undefined): ResolvedPrincipal {
  if ("roleArn" in ref) {
    return { kind: "role", arn: ref.roleArn };
  }
  return {
    kind: "permission-set",
    accountId: ref.accountId ?? defaultAccount ?? "",
    name: ref.permissionSet,
  };
}

/**
 * The `aws:PrincipalArn` patterns of a permission set's role, one per path form: Identity Center
 * puts the role under `.../sso.amazonaws.com/<region>/`, except for instances in us-east-1, which
 * leave the region out.
 *
 * - The 16 `?` stand for the random suffix, so the pattern survives the role being recreated,
 *   yet `S3Access` does not match `S3Access_Admin_<suffix>` (a longer name cannot fit).
 * - The role name follows a literal `/`, not a `*`: a leading `*AWSReservedSSO_S3Access_…` would
 *   also match the role of a set named `X_AWSReservedSSO_S3Access`, since a wildcard may cross
 *   into the role name. Set names cannot contain `/`, so anchoring on it rules that out.
 */
export function permissionSetPatterns(accountId: string, name: string): [string, string] {
  const base = `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com`;
  const role = `AWSReservedSSO_${name}_${"?".repeat(16)}`;
  return [`${base}/${role}`, `${base}/*/${role}`];
}

const SET_PATTERN =
  /^arn:aws:iam::(\d{12}):role\/aws-reserved\/sso\.amazonaws\.com\/(?:\*\/)?AWSReservedSSO_([\w+=,.@-]{1,32})_\?{16}$/;

/** The permission set a pattern of `permissionSetPatterns` stands for, or undefined. */
export function parsePermissionSetPattern(pattern: string): { accountId: string; name: string } | undefined {
  const match = SET_PATTERN.exec(pattern);
  const [, accountId, name] = match ?? [];
  return accountId === undefined || name === undefined ? undefined : { accountId, name };
}

/** The `aws:PrincipalArn` condition values for a principal. */
export function principalPatterns(principal: ResolvedPrincipal): string[] {
  return principal.kind === "role"
    ? [principal.arn]
    : permissionSetPatterns(principal.accountId, principal.name);
}

/** Every permission set the spec names, deduplicated and sorted. */
export function permissionSetsOf(spec: BucketSpec): Array<{ accountId: string; name: string }> {
  const sets = new Map<string, { accountId: string; name: string }>();
  for (const refs of Object.values(spec.capabilities)) {
    for (const ref of refs ?? []) {
      const resolved = resolvePrincipal(ref, spec.accountId);
      if (resolved.kind === "permission-set") {
        sets.set(`${resolved.accountId}/${resolved.name}`, {
          accountId: resolved.accountId,
          name: resolved.name,
        });
      }
    }
  }
  return [...sets.entries()].sort(([a], [b]) => compareText(a, b)).map(([, set]) => set);
}

function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** Code-unit order, independent of the runtime's locale (localeCompare is not). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
