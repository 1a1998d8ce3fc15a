import type { AssignmentOrigin, LeaseView } from "@keyturn/core";
import type { AuditLog, Clock } from "./ports.js";

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
export type BucketSessionCutoff = { identityStoreUserId: string; until: string };
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
  generate(
    spec: BucketPolicySpec,
  ): Outcome<
    GeneratedBucketPolicy,
    { code: "INVALID_SPEC"; message: string; problems: SpecProblem[] } | PolicyTooLargeError
  >;
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
  recordApplied(input: { name: string; hash: string; at: Date }): Promise<void>;
  recordDriftCheck(input: {
    name: string;
    at: Date;
    driftDetected: boolean;
    liveHash: string | null;
  }): Promise<void>;
};

export type CutoffKey = { identityStoreUserId: string; accountId: string; permissionSetName: string };
export type SessionCutoffRecord = CutoffKey & { until: Date; createdAt: Date; removedAt: Date | null };

export type SessionCutoffRepository = {
  find(key: CutoffKey): Promise<SessionCutoffRecord | null>;
  /** Creates or re-arms the cut-off (or moves `until` later); `changed` is false if it already held. */
  arm(
    input: CutoffKey & { until: Date; at: Date },
  ): Promise<{ changed: boolean; record: SessionCutoffRecord }>;
  /** Ends a cut-off not yet removed (lifted or expired); false when there was none. */
  remove(input: CutoffKey & { at: Date }): Promise<boolean>;
  /** Cut-offs in force at `at`. */
  active(at: Date): Promise<SessionCutoffRecord[]>;
  /** Cut-offs whose `until` has passed but that are not marked removed yet. */
  due(at: Date): Promise<SessionCutoffRecord[]>;
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
};

export type BucketPolicyTransaction = {
  buckets: ProtectedBucketRepository;
  cutoffs: SessionCutoffRepository;
  access: AccessHolderQueries;
  audit: AuditLog;
};

export type BucketPolicyUnitOfWork = {
  run<T>(work: (tx: BucketPolicyTransaction) => Promise<T>): Promise<T>;
};

export type BucketPolicyDeps = {
  uow: BucketPolicyUnitOfWork;
  clock: Clock;
  engine: BucketPolicyEngine;
};

/** For the use cases that read or write the live policy in S3. */
export type BucketPolicyS3Deps = BucketPolicyDeps & { store: BucketPolicyStore };

export type BucketPolicyErrorCode =
  | "BUCKET_NOT_FOUND"
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
