import {
  type BucketSpec,
  CAPABILITIES,
  type Capability,
  type CapabilityAccess,
  type CutoffLayout,
  type EffectiveAccess,
  type ForeignStatement,
  type GeneratedPolicy,
  type JsonPolicy,
  type JsonStatement,
  type PlanError,
  type PolicyDiff,
  type PolicyPlan,
  type PolicyTooLarge,
  type PrincipalDescriptor,
  type PrincipalRef,
  type SessionCutoff,
  type SpecProblem,
} from "@keyturn/bucket-policy";
import type { AssignmentOrigin, LeaseView } from "@keyturn/core";
import type { KeyturnIdentity } from "./keyturn-principal.js";
import type { AuditLog, Clock, Outbox } from "./ports.js";

// Ports of the bucket-policy use cases. The policy logic is @keyturn/bucket-policy's, which is pure
// like core: the use cases call it directly and use its types. The names below are its types under
// the names the use cases' callers know (aliases, not copies: they cannot drift).

export const BUCKET_CAPABILITIES = CAPABILITIES;
export type BucketCapability = Capability;
export type PolicyStatementJson = JsonStatement;
export type PolicyDocumentJson = JsonPolicy;
export type BucketPrincipalRef = PrincipalRef;
export type BucketSessionCutoff = SessionCutoff;
export type BucketPolicySpec = BucketSpec;
export type { CutoffLayout, ForeignStatement, SpecProblem };
export type GeneratedBucketPolicy = GeneratedPolicy;
export type PolicyTooLargeError = PolicyTooLarge;
export type InvalidLivePolicyError = Extract<PlanError, { code: "INVALID_LIVE_POLICY" }>;
export type BucketPolicyDiff = PolicyDiff;
export type BucketPolicyPlan = PolicyPlan;
export type PolicyPrincipal = PrincipalDescriptor;
export type PolicyCapabilityAccess = CapabilityAccess;
/** Access AWS's documentation does not decide: named, with the statements and why, never guessed. */
export type PolicyUndeterminedAccess = CapabilityAccess["undetermined"][number];
export type PolicyAccessAnalysis = EffectiveAccess;

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
  /**
   * `pinnedAt`: since when the identity is pinned to this Identity Center user (null: not known).
   * Access that ended before it was another user's, whose sessions carry the other user id.
   */
  identity: { email: string; identityStoreUserId: string | null; pinnedAt: Date | null };
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
