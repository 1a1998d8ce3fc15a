import type { AssignmentOrigin, LeaseView } from "@keyturn/core";
import type { KeyturnIdentity } from "./keyturn-principal.js";
import type { AuditLog, Clock, Outbox } from "./ports.js";

// Ports of the bucket-policy use cases. The policy logic itself lives in @keyturn/bucket-policy,
// which is pure and cannot import this package, so these types restate the part of its API the
// use cases rely on; the composition roots pass `bucketPolicyEngine` in, and the compiler checks
// there that it fits.

export const BUCKET_CAPABILITIES = [
  "administer-resource",
  "read-config",
  "read-data",
  "write-data",
  "delete-data",
] as const;
export type BucketCapability = (typeof BUCKET_CAPABILITIES)[number];

export type PolicyStatementJson = Readonly<Record<string, unknown>>;
export type PolicyDocumentJson = { Version?: string; Id?: string; Statement: PolicyStatementJson[] };

export type BucketPrincipalRef = { roleArn: string } | { permissionSet: string; accountId?: string };
/** bucket-policy's SessionCutoff (see its spec.ts). */
export type BucketSessionCutoff = {
  identityStoreUserId: string;
  accountId: string;
  permissionSet: string;
  until: string;
  issuedBefore?: string;
  closedAt?: string;
  /** Pre-armed: S3 starts refusing at this instant by its own clock. */
  from?: string;
};
export type BucketPolicySpec = {
  bucket: string;
  accountId?: string;
  capabilities: Partial<Record<BucketCapability, readonly BucketPrincipalRef[]>>;
  kmsRequired?: boolean;
  kmsKeyArn?: string;
  sessionCutoffs?: readonly BucketSessionCutoff[];
};

export type SpecProblem = { path: string; message: string };
export type GeneratedBucketPolicy = { policy: PolicyDocumentJson; json: string; bytes: number };
/** How the generator wrote the cut-offs: per user, or folded role-wide when they did not fit. */
export type CutoffLayout = {
  listed: number;
  /** Pre-armed cut-offs written, and those left out for room (armed at the grant's end instead). */
  prearmed: number;
  prearmDeferred: number;
  roleWide: Array<{
    accountId: string;
    permissionSet: string;
    fold: "closed" | "all";
    issuedBefore: string | null;
    cutoffs: number;
  }>;
};
export type PolicyTooLargeError = { code: "POLICY_TOO_LARGE"; message: string; size: number; limit: number };
export type InvalidLivePolicyError = { code: "INVALID_LIVE_POLICY"; message: string };

export type ForeignStatement = { index: number; sid: string | null; statement: PolicyStatementJson };
export type BucketPolicyDiff = {
  added: Array<{ sid: string; statement: PolicyStatementJson }>;
  removed: Array<{ sid: string; statement: PolicyStatementJson }>;
  changed: Array<{ sid: string; live: PolicyStatementJson; generated: PolicyStatementJson }>;
  unchanged: string[];
  foreign: ForeignStatement[];
};
export type BucketPolicyPlan = {
  diff: BucketPolicyDiff;
  merged: GeneratedBucketPolicy;
  dropped: ForeignStatement[];
  inSync: boolean;
  changesLive: boolean;
};

export type PolicyPrincipal =
  | { kind: "permission-set"; accountId: string; name: string }
  | { kind: "arn"; arn: string }
  | { kind: "session"; arn: string }
  | { kind: "pattern"; pattern: string }
  | { kind: "account"; accountId: string }
  | { kind: "anyone" }
  | { kind: "anonymous" };
/** Access AWS's documentation does not decide: named, with the statements and why, never guessed. */
export type PolicyUndeterminedAccess = {
  principal: PolicyPrincipal;
  actions: string[];
  statements: Array<{ statement: string; reason: string }>;
};
export type PolicyCapabilityAccess = {
  capability: BucketCapability;
  granted: Array<{
    principal: PolicyPrincipal;
    actions: string[];
    allActions: boolean;
    grantedBy: string[];
    owned: boolean;
  }>;
  shadowed: Array<{ principal: PolicyPrincipal; actions: string[]; grantedBy: string[]; deniedBy: string[] }>;
  openThroughIdentityPolicies: PolicyPrincipal[];
  undetermined: PolicyUndeterminedAccess[];
};
export type PolicyAccessAnalysis = {
  bucket: string;
  capabilities: PolicyCapabilityAccess[];
  unanalyzed: Array<{ statement: string; reason: string }>;
};

type Outcome<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** @keyturn/bucket-policy's `bucketPolicyEngine`. */
export type BucketPolicyEngine = {
  parseSpec(
    input: unknown,
  ):
    | { ok: true; spec: BucketPolicySpec }
    | { ok: false; error: { code: "INVALID_SPEC"; message: string; problems: SpecProblem[] } };
  /** `reserveBytes`: room to leave (the foreign statements an apply keeps); cut-offs fold to fit. */
  generate(
    spec: BucketPolicySpec,
    options?: { reserveBytes?: number },
  ): Outcome<
    GeneratedBucketPolicy & { cutoffs: CutoffLayout },
    { code: "INVALID_SPEC"; message: string; problems: SpecProblem[] } | PolicyTooLargeError
  >;
  /** How many cut-offs of one set fit listed by user (long-form user ids). */
  sessionCutoffCapacity(spec: BucketPolicySpec, options?: { reserveBytes?: number }): number;
  plan(input: {
    live: string | null;
    generated: PolicyDocumentJson;
    dropForeign?: boolean;
  }): Outcome<BucketPolicyPlan, InvalidLivePolicyError | PolicyTooLargeError>;
  /** Text that is equal for policies AWS evaluates alike; null for no policy. */
  fingerprint(live: string | null): Outcome<string | null, InvalidLivePolicyError>;
  permissionSetsOf(spec: BucketPolicySpec): Array<{ accountId: string; name: string }>;
  analyzeEffectiveAccess(input: {
    bucket: string;
    policy: string | null;
    accountId?: string;
    now?: string;
  }): Outcome<PolicyAccessAnalysis, InvalidLivePolicyError>;
};

/**
 * A bucket's policy in S3 (@keyturn/aws's `createBucketPolicyStore` fits). Failures are thrown as
 * AppErrors, retryable when trying again may help.
 */
export type BucketPolicyStore = {
  getPolicy(bucket: string): Promise<string | null>;
  putPolicy(bucket: string, policyJson: string): Promise<void>;
  /** The bucket's default encryption (GetBucketEncryption), or null when it has none. */
  getEncryption(bucket: string): Promise<{ sseAlgorithm: string; kmsMasterKeyId?: string } | null>;
};

export type ProtectedBucketRecord = {
  lastPutAt: Date | null;
  dirtySince: Date | null;
  cutoffsRoleWide: number;
  applyFailingSince: Date | null;
  lastApplyError: string | null;
  name: string;
  accountId: string | null;
  spec: BucketPolicySpec;
  createdAt: Date;
  updatedAt: Date;
  lastAppliedHash: string | null;
  lastAppliedAt: Date | null;
  lastDriftCheckAt: Date | null;
  driftDetected: boolean;
  lastSeenHash: string | null;
};

export type ProtectedBucketRepository = {
  find(name: string): Promise<ProtectedBucketRecord | null>;
  /** The row, locked until commit: applies and drift checks of one bucket take turns. */
  lock(name: string): Promise<ProtectedBucketRecord | null>;
  list(): Promise<ProtectedBucketRecord[]>;
  save(input: { name: string; accountId: string | null; spec: BucketPolicySpec; at: Date }): Promise<void>;
  /**
   * After an apply: the hash in force, whether it put (then `lastPutAt = at`), and the dirty mark
   * cleared unless a change was committed after `readAt` (when the apply read the cut-offs).
   */
  recordApplied(input: {
    name: string;
    hash: string;
    at: Date;
    put: boolean;
    readAt: Date;
    cutoffsRoleWide: number;
  }): Promise<void>;
  /** A failed apply: kept on the row (first failure time, last error) until one succeeds. */
  recordApplyFailure(input: { name: string; at: Date; startedAt: Date; error: string }): Promise<void>;
  /** Marks buckets as wanting an apply (keeps an earlier mark). */
  markDirty(input: { names: readonly string[]; at: Date }): Promise<void>;
  recordDriftCheck(input: {
    name: string;
    at: Date;
    driftDetected: boolean;
    liveHash: string | null;
  }): Promise<void>;
};

export type CutoffKey = { identityStoreUserId: string; accountId: string; permissionSetName: string };
/** What a cut-off says; see bucket-policy's SessionCutoff and prisma's SessionCutoff. */
export type CutoffTerms = {
  endedAt: Date;
  until: Date;
  issuedBefore: Date | null;
  closedAt: Date | null;
  sessionDurationSeconds: number;
  /**
   * Pre-armed: the grant has not ended yet; S3 refuses from this instant (the run's end rounded up
   * to the second) by its own clock. Absent: in force now.
   */
  startsAt?: Date;
};
export type SessionCutoffRecord = CutoffKey & {
  until: Date;
  createdAt: Date;
  removedAt: Date | null;
  endedAt: Date | null;
  issuedBefore: Date | null;
  closedAt: Date | null;
  sessionDurationSeconds: number | null;
  /** Pre-armed (see CutoffTerms); null: in force since it was armed. */
  startsAt: Date | null;
};

export type SessionCutoffRepository = {
  find(key: CutoffKey): Promise<SessionCutoffRecord | null>;
  /**
   * Writes these cut-offs as in force, in one statement (hundreds end together): new ones are
   * armed at `at`, existing ones take the new terms (an ended one is armed afresh).
   */
  save(input: { cutoffs: ReadonlyArray<CutoffKey & CutoffTerms>; at: Date }): Promise<void>;
  /** Ends the cut-offs still in force among `keys` (expired); the number ended. */
  remove(input: { keys: readonly CutoffKey[]; at: Date }): Promise<number>;
  /** Cut-offs in force at `at`, and those pre-armed (written ahead, `startsAt` after `at`). */
  active(at: Date): Promise<SessionCutoffRecord[]>;
  /** Cut-offs not ended yet, including those past their `until` (due to be marked expired). */
  unended(): Promise<SessionCutoffRecord[]>;
};

/** Someone who can assume a permission set's role in an account right now, as Keyturn knows it. */
export type SetHolder = {
  email: string;
  identityStoreUserId: string | null;
  /** `lease`: an active Keyturn lease; `preexisting`: an assignment Keyturn found and never removes. */
  source: "lease" | "preexisting";
  requestId: string | null;
  until: Date | null;
};

export type AssignmentForCutoff = {
  id: string;
  accountId: string;
  permissionSetName: string;
  origin: AssignmentOrigin;
  identity: { email: string; identityStoreUserId: string | null };
  provisionIntentAt: Date | null;
  /** What the last reconcile saw in AWS; null before the first one. */
  observedPresent: boolean | null;
  leases: LeaseView[];
  /** When Keyturn last removed it from AWS successfully (the attempt log), if it ever did. */
  lastRemovedAt: Date | null;
};

export type AccessHolderQueries = {
  holders(input: { accountId: string; permissionSetName: string; at: Date }): Promise<SetHolder[]>;
  assignment(id: string): Promise<AssignmentForCutoff | null>;
  /**
   * Keyturn's assignments that may call for a cut-off: those in `ids`, those with a lease that
   * ended (or was released) in (since, now], those with a lease ending in (now, prearmUntil] (to
   * pre-arm), those of every pre-armed cut-off (to move or withdraw it), and, with
   * `withActiveCutoffs`, those of every cut-off in force.
   */
  cutoffCandidates(input: {
    since: Date;
    now: Date;
    prearmUntil?: Date;
    ids?: readonly string[];
    withActiveCutoffs?: boolean;
  }): Promise<AssignmentForCutoff[]>;
};

export type BucketPolicyTransaction = {
  buckets: ProtectedBucketRepository;
  cutoffs: SessionCutoffRepository;
  access: AccessHolderQueries;
  audit: AuditLog;
  /** For `bucket.apply` messages, written with the change that calls for the apply. */
  outbox: Outbox;
};

export type BucketPolicyUnitOfWork = {
  run<T>(work: (tx: BucketPolicyTransaction) => Promise<T>): Promise<T>;
};

export type BucketPolicyDeps = {
  uow: BucketPolicyUnitOfWork;
  clock: Clock;
  engine: BucketPolicyEngine;
  /** Keyturn's own principal, so no spec locks it out; absent: not checked. */
  keyturn?: KeyturnIdentity;
};

/** For the use cases that read or write the live policy in S3. */
export type BucketPolicyS3Deps = BucketPolicyDeps & { store: BucketPolicyStore };

export type BucketPolicyErrorCode =
  | "BUCKET_NOT_FOUND"
  | "LOCKOUT_SPEC"
  | "ASSIGNMENT_NOT_FOUND"
  | "INVALID_BUCKET_SPEC"
  | "POLICY_TOO_LARGE"
  | "INVALID_LIVE_POLICY"
  /** The bucket's default encryption is not the SSE-KMS the policy's storage denies rely on. */
  | "BUCKET_NOT_KMS_ENCRYPTED";
export type BucketPolicyError = {
  code: BucketPolicyErrorCode;
  message: string;
  details?: Record<string, unknown>;
};
export type BucketPolicyResult<T> = { ok: true; value: T } | { ok: false; error: BucketPolicyError };
