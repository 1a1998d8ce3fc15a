import type {
  AccessRequest,
  AssignmentOrigin,
  FlowRef,
  FlowRules,
  LeaseView,
  OnCallProvider,
  RequestStatus,
  TicketProvider,
  TicketProviderName,
} from "@keyturn/core";

export type Clock = { now(): Date };
export type IdGenerator = { uuid(): string };

/** Who an audit event is attributed to: a person, an API token (service), or Keyturn itself. */
export type AuditActor = { type: "identity" | "token" | "system"; id: string; label?: string };

export type Identity = {
  id: string;
  email: string;
  slackUserId: string | null;
  identityStoreUserId: string | null;
  displayName: string | null;
};

export type StoredFlow = { ref: FlowRef; archived: boolean };

export type FlowRepository = {
  /** The current version, locked for update so two writers cannot both create version n+1. */
  lockCurrent(name: string): Promise<StoredFlow | null>;
  getCurrent(name: string): Promise<StoredFlow | null>;
  getVersion(name: string, version: number): Promise<FlowRef | null>;
  saveVersion(input: { name: string; version: number; rules: FlowRules; createdBy: string }): Promise<void>;
  /** Marks the flow archived (saveVersion brings it back). */
  archive(name: string, at: Date): Promise<void>;
};

export type IdentityRepository = {
  findById(id: string): Promise<Identity | null>;
  /**
   * Emails are compared lower-cased; the first sighting of an email creates its identity (pinned
   * to `slackUserId` when the person was first seen through Slack).
   */
  ensureByEmail(email: string, slackUserId?: string): Promise<Identity>;
};

export type RequestRepository = {
  /** Loads the request with its flow version and reviews, holding a row lock until commit. */
  lock(id: string): Promise<AccessRequest | null>;
  insert(
    request: AccessRequest,
    options?: { idempotencyKey?: string; idempotencyFingerprint?: string },
  ): Promise<void>;
  /**
   * Also holds the key until commit, so concurrent submissions with one key queue up. Answers the
   * fingerprint the key was first used with, where the edge gave one.
   */
  findByIdempotencyKey(key: string): Promise<{ request: AccessRequest; fingerprint: string | null } | null>;
  /** Writes the new state; the caller holds the row lock taken by `lock`. */
  update(before: AccessRequest, after: AccessRequest): Promise<void>;
  /** Approved or active requests bound to this ticket (oldest first). */
  findOpenByTicket(provider: TicketProviderName, key: string): Promise<string[]>;
  /** Every ticket some approved or active request is bound to, once each. */
  openTicketBindings(): Promise<Array<{ provider: TicketProviderName; key: string }>>;
};

export type LeaseRecord = LeaseView & { id: string; assignmentId: string };
export type AssignmentKey = { accountId: string; permissionSetName: string; identityId: string };

export type LeaseRepository = {
  /** Creates the assignment row on first use, then the request's lease on it. */
  create(input: {
    requestId: string;
    key: AssignmentKey;
    startsAt: Date;
    endsAt: Date;
  }): Promise<LeaseRecord>;
  findByRequest(requestId: string): Promise<LeaseRecord | null>;
  setEndsAt(requestId: string, endsAt: Date): Promise<LeaseRecord | null>;
  release(requestId: string, at: Date): Promise<LeaseRecord | null>;
  origin(assignmentId: string): Promise<AssignmentOrigin>;
};

export type AssignmentSnapshot = {
  id: string;
  accountId: string;
  permissionSetName: string;
  origin: AssignmentOrigin;
  provisionIntentAt: Date | null;
  /**
   * What AWS was last seen or confirmed to hold; null when never looked at, or while a change
   * Keyturn asked for is unconfirmed (a crash may have left it either way).
   */
  observedPresent: boolean | null;
  /** A deletion AWS accepted whose end Keyturn has not seen yet. */
  pending: PendingChange | null;
  identity: { id: string; email: string; identityStoreUserId: string | null };
  leases: Array<LeaseRecord & { requestStatus: RequestStatus }>;
};

/**
 * A change Keyturn asked AWS for and has not seen end. A delete always has AWS's request id; a
 * create is marked before it is sent (`requestId` null) and gets its id the moment AWS answers, so
 * a worker that dies in between leaves "a create may have been sent at `since`" for the next run
 * to look up, never to guess.
 */
export type PendingChange =
  | { operation: "delete"; requestId: string; since: Date }
  | { operation: "create"; requestId: string | null; since: Date };

export type ReconcileAttemptRecord = {
  assignmentId: string;
  operation: "create" | "delete";
  outcome: "succeeded" | "failed" | "error";
  awsRequestId: string | null;
  failureReason: string | null;
  requestIds: string[];
  startedAt: Date;
  finishedAt: Date;
};

export type AssignmentRepository = {
  snapshot(id: string): Promise<AssignmentSnapshot | null>;
  /** The assignment's leases as they are now, with their requests' states. */
  leases(id: string): Promise<AssignmentSnapshot["leases"]>;
  /**
   * Before a create or delete is sent: the observation is void until its outcome is recorded, and
   * a create is marked pending (its AWS request id still unknown).
   */
  markChangeRequested(id: string, operation: "create" | "delete", at: Date): Promise<void>;
  /** The newest call for the assignment since `since` that ended one of these ways. */
  lastAttempt(
    id: string,
    filter: {
      since: Date;
      outcomes: ReadonlyArray<ReconcileAttemptRecord["outcome"]>;
      operation?: ReconcileAttemptRecord["operation"];
    },
  ): Promise<ReconcileAttemptRecord | null>;
  markPreexisting(id: string): Promise<void>;
  setPending(id: string, pending: PendingChange | null): Promise<void>;
  recordObservation(id: string, present: boolean, at: Date): Promise<void>;
  recordAttempt(attempt: ReconcileAttemptRecord): Promise<void>;
  /**
   * Pins the user id unless the identity is pinned already (another run got there first); answers
   * the id the identity is pinned to afterwards and whether this call pinned it. A pinned id is
   * what every later grant goes to, so an email change in Identity Center cannot redirect access.
   */
  pinPrincipal(
    identityId: string,
    principalId: string,
    at: Date,
  ): Promise<{ principalId: string; pinned: boolean }>;
  /**
   * Moves the pin from `from` (a user Identity Center no longer has) to `to`, if it is still on
   * `from`; answers the id pinned afterwards, or "taken" when `to` is pinned to another identity.
   * What Keyturn knew about the identity's assignments was about the old user: it is forgotten.
   */
  repinPrincipal(input: {
    identityId: string;
    from: string;
    to: string;
    at: Date;
  }): Promise<{ principalId: string; repinned: boolean } | "taken">;
};

/**
 * A per-assignment claim: two reconciles of one assignment never run at once, in one process or
 * across processes, and a claim ends with its holder (process, connection) rather than after a TTL.
 */
export type AssignmentClaim = {
  /** False once the claim was lost (its connection broke): stop before the next change to AWS. */
  held(): boolean;
  release(): Promise<void>;
};
export type AssignmentClaims = {
  /** The claim, or null when someone else holds it now. */
  acquire(assignmentId: string): Promise<AssignmentClaim | null>;
};

/** A person as Slack knows them now, for checks that must not trust what was pinned long ago. */
export type SlackPerson =
  | { status: "active"; email: string | null }
  | { status: "deactivated" }
  | { status: "not_found" };
export type PeopleDirectory = { slackUser(slackUserId: string): Promise<SlackPerson> };

export type ManagedTarget = { accountId: string; permissionSetName: string; drift: "report" | "remove" };

export type DriftRepository = {
  /** Every (account, permission set) some flow hands out, with what to do about strangers. */
  managedTargets(): Promise<ManagedTarget[]>;
  /** Principals Keyturn granted (or found preexisting) for a target: not drift. */
  knownPrincipals(target: { accountId: string; permissionSetName: string }): Promise<Set<string>>;
  recordFinding(input: {
    accountId: string;
    permissionSetName: string;
    principalType: string;
    principalId: string;
    at: Date;
  }): Promise<{ isNew: boolean }>;
  markRemoved(input: {
    accountId: string;
    permissionSetName: string;
    principalType: string;
    principalId: string;
    at: Date;
  }): Promise<void>;
  /** Findings of a target no longer seen in AWS are resolved. */
  resolveUnseen(input: {
    accountId: string;
    permissionSetName: string;
    seen: string[];
    at: Date;
  }): Promise<number>;
};

export type AuditEntry = {
  actor: AuditActor;
  action: string;
  requestId?: string;
  data: Record<string, unknown>;
};
export type AuditLog = { append(entry: AuditEntry): Promise<{ id: string }> };

export type OutboxMessage = {
  topic: OutboxTopic;
  key: string;
  payload: Record<string, unknown>;
  availableAt?: Date;
  /**
   * A message with this key already written (and perhaps relayed) is kept and this one dropped,
   * instead of failing the transaction: for triggers many changes share, such as one session
   * cut-off run per instant at which leases end.
   */
  ifAbsent?: boolean;
};
export type Outbox = { add(message: OutboxMessage): Promise<void> };

/**
 * What the worker turns into jobs. Payloads carry ids only — never secrets, never state that could
 * be stale by the time the job runs.
 */
export const OUTBOX_TOPICS = [
  "assignment.reconcile",
  "identity.resolve",
  "request.notify",
  "request.time-out",
  "cutoff.arm",
  "bucket.apply",
  "request.on-call-check",
  "signin.notify",
] as const;
export type OutboxTopic = (typeof OUTBOX_TOPICS)[number];

export type ApiTokenRecord = {
  id: string;
  name: string;
  ownerKind: "person" | "service";
  owner: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

export type ApiTokenRepository = {
  insert(token: ApiTokenRecord & { hash: string }): Promise<void>;
  findById(id: string): Promise<ApiTokenRecord | null>;
  markRevoked(id: string, at: Date): Promise<void>;
};

/** A `keyturn login` in progress: see create-cli-sign-in.ts. */
/** undeliverable: Keyturn could not reach the person in Slack to ask. */
export type CliSignInStatus = "pending" | "approved" | "rejected" | "redeemed" | "undeliverable";
export type CliSignInRecord = {
  id: string;
  code: string;
  email: string | null;
  slackUserId: string | null;
  host: string;
  status: CliSignInStatus;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  identityStoreUserId: string | null;
  tokenId: string | null;
  redeemedAt: Date | null;
};

export type CliSignInRepository = {
  insert(signIn: CliSignInRecord & { handleHash: string }): Promise<void>;
  /** Locked until commit, so one answer (and one redemption) wins. */
  lock(id: string): Promise<CliSignInRecord | null>;
  lockByHandleHash(handleHash: string): Promise<CliSignInRecord | null>;
  update(
    id: string,
    change: Partial<
      Pick<
        CliSignInRecord,
        "status" | "email" | "slackUserId" | "decidedAt" | "identityStoreUserId" | "tokenId" | "redeemedAt"
      >
    >,
  ): Promise<void>;
};

export type Transaction = {
  flows: FlowRepository;
  identities: IdentityRepository;
  requests: RequestRepository;
  leases: LeaseRepository;
  audit: AuditLog;
  outbox: Outbox;
  tokens: ApiTokenRepository;
  assignments: AssignmentRepository;
  drift: DriftRepository;
  signIns: CliSignInRepository;
};

/** Everything a use case writes happens inside one database transaction, or not at all. */
export type UnitOfWork = { run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> };

/**
 * The on-call and ticket providers configured for this deployment (PagerDuty, Jira, Linear); a
 * flow naming one that is absent is refused when it is put.
 */
export type Integrations = {
  onCall: Partial<Record<OnCallProvider["name"], OnCallProvider>>;
  tickets: Partial<Record<TicketProviderName, TicketProvider>>;
};

export const NO_INTEGRATIONS: Integrations = { onCall: {}, tickets: {} };

export type Deps = { uow: UnitOfWork; clock: Clock; ids: IdGenerator; integrations?: Integrations };
