import { createHash } from "node:crypto";
import type { Random } from "./random.js";
import type {
  BucketEncryption,
  CallerRegistration,
  EmulatedAssignment,
  EmulatedRole,
  EmulatorSnapshot,
  PolicyDocument,
  PortalSignIn,
  PrincipalRef,
  PrincipalType,
  SeedData,
  SeedResult,
  SseAlgorithm,
} from "./types.js";
import { ACCOUNT_ID, INSTANCE_ARN } from "./validate.js";
import { isObject } from "./wire.js";

export type Instance = {
  instanceArn: string;
  identityStoreId: string;
  ownerAccountId: string;
  name: string;
  createdAt: number;
};

export type Account = { accountId: string; name: string; email: string };

export type User = {
  userId: string;
  userName: string;
  displayName: string;
  givenName: string | undefined;
  familyName: string | undefined;
  emails: string[];
  createdAt: number;
};

export type Group = {
  groupId: string;
  displayName: string;
  description: string | undefined;
  memberIds: Set<string>;
  createdAt: number;
};

export type PermissionSet = {
  permissionSetArn: string;
  name: string;
  description: string | undefined;
  relayState: string | undefined;
  sessionDuration: string;
  sessionDurationMs: number;
  createdAt: number;
  policies: readonly PolicyDocument[];
};

export type AssignmentTarget = {
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
};

type OperationStatus = "IN_PROGRESS" | "SUCCEEDED" | "FAILED";

export type AssignmentOperation = AssignmentTarget & {
  kind: "creation" | "deletion";
  requestId: string;
  status: OperationStatus;
  failureReason: string | undefined;
  createdAt: number;
  completesAt: number;
  /** Decided when the request arrives so the fault schedule does not depend on polling. */
  plannedFailure: string | undefined;
};

export type StoredObject = {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: number;
  metadata: Record<string, string>;
  sse: SseAlgorithm | undefined;
  sseKmsKeyId: string | undefined;
};

export type StoredPolicy = { text: string; document: unknown };

/** A multipart upload in progress: its encryption was fixed when it was created. */
export type MultipartUpload = {
  uploadId: string;
  key: string;
  initiated: number;
  contentType: string;
  metadata: Record<string, string>;
  sse: SseAlgorithm | undefined;
  kmsKeyId: string | undefined;
  parts: Map<number, { body: Buffer; etag: string; lastModified: number }>;
};

export type Bucket = {
  name: string;
  accountId: string;
  createdAt: number;
  policy: StoredPolicy | undefined;
  encryption: BucketEncryption | null;
  objects: Map<string, StoredObject>;
  uploads: Map<string, MultipartUpload>;
};

/**
 * Who an S3 access key belongs to: a role (an SSO session from GetRoleCredentials, or a registered
 * one), an IAM user, or an account's root user. `roleArn` is the principal ARN (aws:PrincipalArn).
 */
export type Caller = {
  kind: "role" | "user" | "root";
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  roleArn: string;
  accountId: string;
  roleId: string;
  sessionName: string | undefined;
  identityStoreUserId: string | undefined;
  expiresAt: number | undefined;
  /**
   * When temporary credentials were issued (epoch ms, whole seconds): the request context's
   * `aws:TokenIssueTime`, a global key present only for temporary credentials (IAM User Guide,
   * "AWS global condition context keys"). Undefined for long-term keys.
   */
  issuedAt: number | undefined;
  policies: readonly PolicyDocument[];
};

type PortalToken = { userId: string; expiresAt: number };

const PORTAL_TOKEN_LIFETIME_MS = 8 * 3600_000;
const MAX_SESSION_MS = 12 * 3600_000;
const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;
const PRINCIPAL_ARN = /^arn:aws:iam::(\d{12}):(?:(role|user)\/.+|(root))$/;

function assignmentKey(target: AssignmentTarget): string {
  return `${target.accountId}|${target.permissionSetArn}|${target.principalType}|${target.principalId}`;
}

function roleKey(accountId: string, permissionSetArn: string): string {
  return `${accountId}|${permissionSetArn}`;
}

/** ISO-8601 durations of the PnDTnHnMnS form, which is all SessionDuration uses. */
function parseIsoDuration(text: string): number | undefined {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (match === null || text === "P" || text.endsWith("T")) {
    return undefined;
  }
  const [, days, hours, minutes, seconds] = match;
  return (
    (Number(days ?? 0) * 86400 +
      Number(hours ?? 0) * 3600 +
      Number(minutes ?? 0) * 60 +
      Number(seconds ?? 0)) *
    1000
  );
}

/** Bucket policies are stored as sent (GetBucketPolicy returns the raw text) and parsed once. */
export function toStoredPolicy(policy: PolicyDocument): StoredPolicy {
  const text = typeof policy === "string" ? policy : JSON.stringify(policy);
  const document: unknown = JSON.parse(text);
  if (!isObject(document)) {
    throw new Error("A policy document must be a JSON object");
  }
  return { text, document };
}

export class EmulatorState {
  readonly region: string;
  readonly seedValue: number;
  readonly ids: Random;
  readonly now: () => number;
  readonly assignmentDelayMs: number;

  instance: Instance | undefined;
  readonly accounts = new Map<string, Account>();
  readonly users = new Map<string, User>();
  readonly groups = new Map<string, Group>();
  readonly permissionSets = new Map<string, PermissionSet>();
  readonly assignments = new Map<string, EmulatedAssignment>();
  readonly operations = new Map<string, AssignmentOperation>();
  readonly roles = new Map<string, EmulatedRole>();
  readonly buckets = new Map<string, Bucket>();
  readonly callers = new Map<string, Caller>();
  readonly #portalTokens = new Map<string, PortalToken>();
  #pending: AssignmentOperation[] = [];

  constructor(options: {
    region: string;
    seed: number;
    ids: Random;
    now: () => number;
    assignmentDelayMs: number;
  }) {
    this.region = options.region;
    this.seedValue = options.seed;
    this.ids = options.ids;
    this.now = options.now;
    this.assignmentDelayMs = options.assignmentDelayMs;
  }

  // ---- assignments -------------------------------------------------------------------------

  /**
   * Completes every request whose delay has passed, in arrival order. Called before each request
   * and inspection, so transitions follow the (injectable) clock without timers.
   */
  settle(): void {
    const now = this.now();
    const due = this.#pending.filter((op) => op.completesAt <= now);
    if (due.length === 0) {
      return;
    }
    this.#pending = this.#pending.filter((op) => op.completesAt > now);
    for (const op of due.sort((a, b) => a.completesAt - b.completesAt)) {
      this.#complete(op);
    }
  }

  startOperation(
    kind: "creation" | "deletion",
    target: AssignmentTarget,
    plannedFailure: string | undefined,
  ): AssignmentOperation {
    const now = this.now();
    const op: AssignmentOperation = {
      ...target,
      kind,
      requestId: this.ids.uuid(),
      status: "IN_PROGRESS",
      failureReason: undefined,
      createdAt: now,
      completesAt: now + this.assignmentDelayMs,
      plannedFailure,
    };
    this.operations.set(op.requestId, op);
    this.#pending.push(op);
    if (this.assignmentDelayMs <= 0) {
      this.settle();
    }
    return op;
  }

  hasPending(kind: "creation" | "deletion", target: AssignmentTarget): boolean {
    const key = assignmentKey(target);
    return this.#pending.some((op) => op.kind === kind && assignmentKey(op) === key);
  }

  outstandingCreations(): number {
    return this.#pending.filter((op) => op.kind === "creation").length;
  }

  roleFor(accountId: string, permissionSetArn: string): EmulatedRole | undefined {
    return this.roles.get(roleKey(accountId, permissionSetArn));
  }

  #complete(op: AssignmentOperation): void {
    if (op.plannedFailure !== undefined) {
      op.status = "FAILED";
      op.failureReason = op.plannedFailure;
      return;
    }
    const key = assignmentKey(op);
    if (op.kind === "creation") {
      if (!this.assignments.has(key)) {
        this.#addAssignment(op, op.completesAt);
      }
    } else if (this.assignments.delete(key)) {
      const stillAssigned = [...this.assignments.values()].some(
        (a) => a.accountId === op.accountId && a.permissionSetArn === op.permissionSetArn,
      );
      if (!stillAssigned) {
        // Identity Center deletes the role with the set's last assignment in the account; the
        // next assignment gets a role with a new suffix (the JIT trap of exact-ARN policies).
        this.roles.delete(roleKey(op.accountId, op.permissionSetArn));
      }
    }
    op.status = "SUCCEEDED";
  }

  #addAssignment(target: AssignmentTarget, at: number): void {
    const instance = this.requireInstance();
    this.assignments.set(assignmentKey(target), {
      instanceArn: instance.instanceArn,
      accountId: target.accountId,
      permissionSetArn: target.permissionSetArn,
      principalType: target.principalType,
      principalId: target.principalId,
    });
    const key = roleKey(target.accountId, target.permissionSetArn);
    const permissionSet = this.permissionSets.get(target.permissionSetArn);
    if (this.roles.has(key) || permissionSet === undefined) {
      return;
    }
    const name = `AWSReservedSSO_${permissionSet.name}_${this.ids.hex(16)}`;
    // The region segment is absent for instances in us-east-1 (an old quirk AWS kept).
    const regionSegment = this.region === "us-east-1" ? "" : `${this.region}/`;
    this.roles.set(key, {
      accountId: target.accountId,
      permissionSetName: permissionSet.name,
      permissionSetArn: permissionSet.permissionSetArn,
      name,
      arn: `arn:aws:iam::${target.accountId}:role/aws-reserved/sso.amazonaws.com/${regionSegment}${name}`,
      roleId: `AROA${this.ids.alnumUpper(17)}`,
      createdAt: at,
    });
  }

  // ---- identity ----------------------------------------------------------------------------

  requireInstance(): Instance {
    if (this.instance === undefined) {
      throw new Error("The emulator has no Identity Center instance yet: call seed() first");
    }
    return this.instance;
  }

  /** By UserId, or by userName (case-insensitive, as Identity Store compares user names). */
  findUser(ref: string): User | undefined {
    const byId = this.users.get(ref);
    if (byId !== undefined) {
      return byId;
    }
    const lower = ref.toLowerCase();
    return [...this.users.values()].find((user) => user.userName.toLowerCase() === lower);
  }

  findGroup(ref: string): Group | undefined {
    const byId = this.groups.get(ref);
    if (byId !== undefined) {
      return byId;
    }
    const lower = ref.toLowerCase();
    return [...this.groups.values()].find((group) => group.displayName.toLowerCase() === lower);
  }

  findPermissionSetByName(name: string): PermissionSet | undefined {
    return [...this.permissionSets.values()].find((set) => set.name === name);
  }

  principalExists(type: PrincipalType, id: string): boolean {
    return type === "USER" ? this.users.has(id) : this.groups.has(id);
  }

  #requireUser(ref: string): User {
    const user = this.findUser(ref);
    if (user === undefined) {
      throw new Error(`Unknown user ${ref}`);
    }
    return user;
  }

  deleteUser(ref: string): void {
    const user = this.#requireUser(ref);
    this.users.delete(user.userId);
    for (const group of this.groups.values()) {
      group.memberIds.delete(user.userId);
    }
    for (const [token, entry] of this.#portalTokens) {
      if (entry.userId === user.userId) {
        this.#portalTokens.delete(token);
      }
    }
  }

  reprovisionUser(ref: string): string {
    const user = this.#requireUser(ref);
    this.deleteUser(user.userId);
    const userId = this.ids.uuid();
    this.users.set(userId, { ...user, userId, emails: [...user.emails], createdAt: this.now() });
    return userId;
  }

  setUserEmails(ref: string, emails: readonly string[]): void {
    const user = this.#requireUser(ref);
    user.emails = [...emails];
  }

  signIn(userRef: string): PortalSignIn {
    const user = this.findUser(userRef);
    if (user === undefined) {
      throw new Error(`Unknown user ${userRef}`);
    }
    const accessToken = `aoa${this.ids.alnum(61)}`;
    const expiresAt = this.now() + PORTAL_TOKEN_LIFETIME_MS;
    this.#portalTokens.set(accessToken, { userId: user.userId, expiresAt });
    return { accessToken, userId: user.userId, expiresAt };
  }

  /** The user behind a live portal token. */
  portalUser(accessToken: string): User | undefined {
    const token = this.#portalTokens.get(accessToken);
    if (token === undefined || token.expiresAt <= this.now()) {
      return undefined;
    }
    return this.users.get(token.userId);
  }

  signOut(accessToken: string): void {
    this.#portalTokens.delete(accessToken);
  }

  registerCaller(accessKeyId: string, registration: CallerRegistration): void {
    const principal = PRINCIPAL_ARN.exec(registration.roleArn);
    if (principal === null) {
      throw new Error(`roleArn must be an IAM role, user or root ARN, got ${registration.roleArn}`);
    }
    if (!ACCOUNT_ID.test(registration.accountId) || principal[1] !== registration.accountId) {
      throw new Error(`accountId must be the 12 digits of the ARN's account, got ${registration.accountId}`);
    }
    const kind = principal[3] === "root" ? "root" : principal[2] === "user" ? "user" : "role";
    this.callers.set(accessKeyId, {
      kind,
      accessKeyId,
      secretAccessKey: this.ids.alnum(40),
      sessionToken: undefined,
      roleArn: registration.roleArn,
      accountId: registration.accountId,
      roleId: registration.roleId ?? `${kind === "user" ? "AIDA" : "AROA"}${this.ids.alnumUpper(17)}`,
      sessionName: kind === "role" ? registration.sessionName : undefined,
      identityStoreUserId: undefined,
      expiresAt: undefined,
      issuedAt: undefined,
      policies: [...(registration.policies ?? [])],
    });
  }

  // ---- seeding -----------------------------------------------------------------------------

  seed(data: SeedData): SeedResult {
    const now = this.now();
    this.#seedInstance(data, now);
    for (const account of data.accounts ?? []) {
      const entry = typeof account === "string" ? { accountId: account } : account;
      this.#addAccount(entry.accountId, entry.name, entry.email);
    }
    for (const user of data.users ?? []) {
      if (this.findUser(user.userName) !== undefined) {
        throw new Error(`User ${user.userName} already exists`);
      }
      const userId = user.userId ?? this.ids.uuid();
      this.users.set(userId, {
        userId,
        userName: user.userName,
        displayName: user.displayName ?? user.userName,
        givenName: user.givenName,
        familyName: user.familyName,
        emails: [...(user.emails ?? [])],
        createdAt: now,
      });
    }
    for (const group of data.groups ?? []) {
      if (this.findGroup(group.displayName) !== undefined) {
        throw new Error(`Group ${group.displayName} already exists`);
      }
      const memberIds = new Set<string>();
      for (const member of group.members ?? []) {
        const user = this.findUser(member);
        if (user === undefined) {
          throw new Error(`Group ${group.displayName}: unknown member ${member}`);
        }
        memberIds.add(user.userId);
      }
      const groupId = group.groupId ?? this.ids.uuid();
      this.groups.set(groupId, {
        groupId,
        displayName: group.displayName,
        description: group.description,
        memberIds,
        createdAt: now,
      });
    }
    for (const set of data.permissionSets ?? []) {
      this.#addPermissionSet(set, now);
    }
    for (const assignment of data.assignments ?? []) {
      this.#seedAssignment(assignment.accountId, assignment.permissionSet, assignment.principal, now);
    }
    for (const bucket of data.buckets ?? []) {
      if (this.buckets.has(bucket.name)) {
        throw new Error(`Bucket ${bucket.name} already exists`);
      }
      const accountId = bucket.accountId ?? this.requireInstance().ownerAccountId;
      this.#addAccount(accountId, undefined, undefined);
      const objects = new Map<string, StoredObject>();
      const encryption: BucketEncryption | null =
        bucket.encryption === undefined ? { sseAlgorithm: "AES256" } : bucket.encryption;
      this.buckets.set(bucket.name, {
        name: bucket.name,
        accountId,
        createdAt: now,
        policy: bucket.policy === undefined ? undefined : toStoredPolicy(bucket.policy),
        encryption,
        objects,
        uploads: new Map(),
      });
      for (const [key, text] of Object.entries(bucket.objects ?? {})) {
        const sse = encryption?.sseAlgorithm;
        objects.set(
          key,
          newObject(Buffer.from(text), "text/plain", now, {}, sse, encryption?.kmsMasterKeyId),
        );
      }
    }
    for (const caller of data.callers ?? []) {
      this.registerCaller(caller.accessKeyId, caller);
    }
    return this.seedResult();
  }

  seedResult(): SeedResult {
    const instance = this.requireInstance();
    return {
      instanceArn: instance.instanceArn,
      identityStoreId: instance.identityStoreId,
      accounts: [...this.accounts.keys()],
      users: Object.fromEntries([...this.users.values()].map((u) => [u.userName, u.userId])),
      groups: Object.fromEntries([...this.groups.values()].map((g) => [g.displayName, g.groupId])),
      permissionSets: Object.fromEntries(
        [...this.permissionSets.values()].map((p) => [p.name, p.permissionSetArn]),
      ),
      buckets: [...this.buckets.keys()],
    };
  }

  #seedInstance(data: SeedData, now: number): void {
    const wanted = data.instance;
    if (this.instance !== undefined) {
      const conflicts =
        (wanted?.instanceArn !== undefined && wanted.instanceArn !== this.instance.instanceArn) ||
        (wanted?.identityStoreId !== undefined && wanted.identityStoreId !== this.instance.identityStoreId);
      if (conflicts) {
        throw new Error("The emulator holds one Identity Center instance; it is already seeded differently");
      }
      return;
    }
    const instanceArn = wanted?.instanceArn ?? `arn:aws:sso:::instance/ssoins-${this.ids.hex(16)}`;
    if (!INSTANCE_ARN.test(instanceArn)) {
      throw new Error(`instanceArn must match ${INSTANCE_ARN.source}`);
    }
    const firstAccount = data.accounts?.[0];
    const ownerAccountId =
      wanted?.ownerAccountId ??
      (typeof firstAccount === "string" ? firstAccount : firstAccount?.accountId) ??
      "123456789012";
    this.instance = {
      instanceArn,
      identityStoreId: wanted?.identityStoreId ?? `d-${this.ids.hex(10)}`,
      ownerAccountId,
      name: wanted?.name ?? "emulated",
      createdAt: now,
    };
    this.#addAccount(ownerAccountId, undefined, undefined);
  }

  #addAccount(accountId: string, name: string | undefined, email: string | undefined): void {
    if (!ACCOUNT_ID.test(accountId)) {
      throw new Error(`Account ids are 12 digits, got ${accountId}`);
    }
    if (!this.accounts.has(accountId) || name !== undefined || email !== undefined) {
      this.accounts.set(accountId, {
        accountId,
        name: name ?? `account-${accountId}`,
        email: email ?? `aws+${accountId}@example.com`,
      });
    }
  }

  #addPermissionSet(
    set: {
      name: string;
      sessionDuration?: string;
      description?: string;
      relayState?: string;
      policies?: readonly PolicyDocument[];
    },
    now: number,
  ): void {
    if (!PERMISSION_SET_NAME.test(set.name)) {
      throw new Error(`Permission set names are 1-32 of [\\w+=,.@-], got ${set.name}`);
    }
    if (this.findPermissionSetByName(set.name) !== undefined) {
      throw new Error(`Permission set ${set.name} already exists`);
    }
    const sessionDuration = set.sessionDuration ?? "PT1H";
    const sessionDurationMs = parseIsoDuration(sessionDuration);
    if (sessionDurationMs === undefined || sessionDurationMs <= 0 || sessionDurationMs > MAX_SESSION_MS) {
      throw new Error(`sessionDuration must be an ISO-8601 duration up to PT12H, got ${sessionDuration}`);
    }
    const instanceId = this.requireInstance().instanceArn.split("/")[1] ?? "";
    const permissionSetArn = `arn:aws:sso:::permissionSet/${instanceId}/ps-${this.ids.hex(16)}`;
    for (const policy of set.policies ?? []) {
      toStoredPolicy(policy);
    }
    this.permissionSets.set(permissionSetArn, {
      permissionSetArn,
      name: set.name,
      description: set.description,
      relayState: set.relayState,
      sessionDuration,
      sessionDurationMs,
      createdAt: now,
      policies: (set.policies ?? []).map((policy) => toStoredPolicy(policy).document),
    });
  }

  #seedAssignment(accountId: string, setName: string, principal: PrincipalRef, now: number): void {
    const set = this.findPermissionSetByName(setName);
    if (set === undefined) {
      throw new Error(`Unknown permission set ${setName}`);
    }
    let principalType: PrincipalType;
    let principalId: string;
    if ("userName" in principal) {
      principalType = "USER";
      principalId = this.findUser(principal.userName)?.userId ?? "";
    } else {
      principalType = "GROUP";
      principalId = this.findGroup(principal.groupName)?.groupId ?? "";
    }
    if (principalId === "") {
      throw new Error(`Unknown principal ${JSON.stringify(principal)}`);
    }
    this.#addAccount(accountId, undefined, undefined);
    this.#addAssignment(
      { accountId, permissionSetArn: set.permissionSetArn, principalType, principalId },
      now,
    );
  }

  // ---- inspection --------------------------------------------------------------------------

  snapshot(): Omit<EmulatorSnapshot, "faults"> {
    const instance = this.instance;
    return {
      region: this.region,
      seed: this.seedValue,
      instance:
        instance === undefined
          ? null
          : {
              instanceArn: instance.instanceArn,
              identityStoreId: instance.identityStoreId,
              ownerAccountId: instance.ownerAccountId,
              name: instance.name,
            },
      accounts: [...this.accounts.keys()],
      users: [...this.users.values()].map((u) => ({
        userId: u.userId,
        userName: u.userName,
        displayName: u.displayName,
        emails: [...u.emails],
      })),
      groups: [...this.groups.values()].map((g) => ({
        groupId: g.groupId,
        displayName: g.displayName,
        memberIds: [...g.memberIds],
      })),
      permissionSets: [...this.permissionSets.values()].map((p) => ({
        permissionSetArn: p.permissionSetArn,
        name: p.name,
        sessionDuration: p.sessionDuration,
        ...(p.description === undefined ? {} : { description: p.description }),
      })),
      assignments: [...this.assignments.values()].map((a) => ({ ...a })),
      pendingOperations: this.#pending.map((op) => ({
        kind: op.kind,
        requestId: op.requestId,
        accountId: op.accountId,
        permissionSetArn: op.permissionSetArn,
        principalType: op.principalType,
        principalId: op.principalId,
        completesAt: op.completesAt,
      })),
      roles: [...this.roles.values()].map((r) => ({ ...r })),
      buckets: [...this.buckets.values()].map((b) => ({
        name: b.name,
        accountId: b.accountId,
        policy: b.policy?.text ?? null,
        encryption: b.encryption,
        objects: [...b.objects.entries()].map(([key, o]) => ({ key, size: o.body.length })),
      })),
    };
  }
}

export function newObject(
  body: Buffer,
  contentType: string,
  now: number,
  metadata: Record<string, string>,
  sse: SseAlgorithm | undefined,
  sseKmsKeyId: string | undefined,
): StoredObject {
  return {
    body,
    contentType,
    etag: `"${createHash("md5").update(body).digest("hex")}"`,
    lastModified: now,
    metadata,
    sse,
    sseKmsKeyId,
  };
}
