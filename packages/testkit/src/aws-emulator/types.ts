// Public types of the local AWS emulator. Everything here is plain data so that the same shapes
// travel over the admin HTTP surface (/_emulator/...) as JSON.

export type ServiceName = "sso-admin" | "identitystore" | "s3" | "sso-portal" | "sso-oidc" | "sts";

export type QuotaOptions = {
  enabled: boolean;
  /** Shared by every sso-admin and identitystore call (sliding 1 s window). Default 20. */
  callsPerSecond?: number;
  /**
   * CreateAccountAssignment requests that may be IN_PROGRESS at once. Default 10: the stricter of
   * the two figures AWS documents (10 on the Identity Center quotas page, 15 on the account access
   * manager page), so that Keyturn is tested against the one that may be in force.
   */
  maxOutstandingCreations?: number;
};

export type AwsEmulatorOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Region of the Identity Center instance and of S3. Default eu-west-1. */
  region?: string;
  /** Time an account assignment request stays IN_PROGRESS. Default 50 ms. */
  assignmentDelayMs?: number;
  /** Off by default so that suites that do not care are not throttled. */
  quotas?: QuotaOptions;
  /** Seeds the generators of ids and of the fault schedule. Random when omitted. */
  seed?: number;
  /** Epoch milliseconds. Default Date.now. */
  now?: () => number;
};

/** An IAM policy document (an object, or its JSON text). */
export type PolicyDocument = unknown;

export type SeedInstance = {
  instanceArn?: string;
  identityStoreId?: string;
  ownerAccountId?: string;
  name?: string;
};

export type SeedAccount = string | { accountId: string; name?: string; email?: string };

export type SeedUser = {
  userName: string;
  emails?: readonly string[];
  displayName?: string;
  givenName?: string;
  familyName?: string;
  userId?: string;
};

export type SeedGroup = {
  displayName: string;
  description?: string;
  /** userNames (or userIds) of the members. */
  members?: readonly string[];
  groupId?: string;
};

export type SeedPermissionSet = {
  name: string;
  /** ISO-8601 duration, PT1H by default, at most PT12H. */
  sessionDuration?: string;
  description?: string;
  relayState?: string;
  /**
   * Identity policies of the role behind the set (inline + managed, flattened). A session of the
   * set is authorized by these plus the bucket policy, e.g. ViewOnlyAccess can be approximated by
   * an Allow of `s3:List*` and `s3:GetBucket*`.
   */
  policies?: readonly PolicyDocument[];
};

export type PrincipalRef = { userName: string } | { groupName: string };

/** An assignment that exists before the test starts (SUCCEEDED at once, role created). */
export type SeedAssignment = { accountId: string; permissionSet: string; principal: PrincipalRef };

export type SseAlgorithm = "AES256" | "aws:kms" | "aws:kms:dsse";

export type BucketEncryption = {
  sseAlgorithm: SseAlgorithm;
  kmsMasterKeyId?: string;
  bucketKeyEnabled?: boolean;
};

export type SeedBucket = {
  name: string;
  /** Owner account. Default: the instance's owner account. */
  accountId?: string;
  policy?: PolicyDocument;
  /** Omitted: SSE-S3 (AES256), as every bucket created since 2023. null: no configuration. */
  encryption?: BucketEncryption | null;
  objects?: Readonly<Record<string, string>>;
};

export type CallerRegistration = {
  /**
   * The principal ARN (aws:PrincipalArn): a role (`arn:aws:iam::<acct>:role/...`, acting as a
   * session when `sessionName` is set), an IAM user (`...:user/<name>`), or the account's root user
   * (`arn:aws:iam::<acct>:root`, which has full access unless a policy denies it).
   */
  roleArn: string;
  accountId: string;
  /** Identity policies of the caller. Default none (bucket policy only). */
  policies?: readonly PolicyDocument[];
  /**
   * `aws:userid` is `<roleId>` or `<roleId>:<sessionName>` (a user's id for users). Generated
   * (AROA... / AIDA...) when omitted.
   */
  roleId?: string;
  /** Roles only: the session name, making the caller `arn:aws:sts::<acct>:assumed-role/<role>/<name>`. */
  sessionName?: string;
};

export type SeedCaller = CallerRegistration & { accessKeyId: string };

export type SeedData = {
  instance?: SeedInstance;
  accounts?: readonly SeedAccount[];
  users?: readonly SeedUser[];
  groups?: readonly SeedGroup[];
  permissionSets?: readonly SeedPermissionSet[];
  assignments?: readonly SeedAssignment[];
  buckets?: readonly SeedBucket[];
  callers?: readonly SeedCaller[];
};

/** The whole seeded world after a seed() call, by name. */
export type SeedResult = {
  instanceArn: string;
  identityStoreId: string;
  accounts: string[];
  /** userName -> UserId */
  users: Record<string, string>;
  /** displayName -> GroupId */
  groups: Record<string, string>;
  /** name -> PermissionSetArn */
  permissionSets: Record<string, string>;
  buckets: string[];
};

export type PrincipalType = "USER" | "GROUP";

export type EmulatedAssignment = {
  instanceArn: string;
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
};

export type EmulatedRole = {
  accountId: string;
  permissionSetName: string;
  permissionSetArn: string;
  name: string;
  arn: string;
  roleId: string;
  createdAt: number;
};

export type CallRecord = {
  /** Emulator clock, epoch ms, when the call was admitted (after any injected latency). */
  at: number;
  service: ServiceName;
  operation: string;
  /** "ok" or the error code returned. */
  outcome: string;
  status: number;
  requestId: string;
  /** The request input (JSON services), or a summary (S3: bucket/key; portal: role and account). */
  input: Readonly<Record<string, unknown>>;
  /** S3: the calling principal ARN, when known. */
  caller?: string;
  /**
   * sso-admin/identitystore: the call arrived when the 1 s window already held the quota's worth
   * of calls. Recorded whether or not quotas are enforced.
   */
  quotaExceeded: boolean;
};

export type CallFilter = (record: CallRecord) => boolean;

export type LatencyRange = { minMs: number; maxMs: number };

export type FaultSettings = {
  quotas: Required<QuotaOptions>;
  /** sso-admin and identitystore calls fail with ThrottlingException with this probability. */
  throttleProbability: number;
  /** Create/DeleteAccountAssignment fail with ConflictException with this probability. */
  conflictProbability: number;
  /** An assignment request ends FAILED (reason below) instead of SUCCEEDED. */
  asyncFailureProbability: number;
  asyncFailureReason: string;
  /** Added before every AWS call, uniform in [minMs, maxMs]. */
  latency: LatencyRange;
  /** Every S3 request is evaluated with aws:SecureTransport "false". */
  insecureTransport: boolean;
};

export type FaultSettingsPatch = {
  quotas?: Partial<QuotaOptions>;
  throttleProbability?: number;
  conflictProbability?: number;
  asyncFailureProbability?: number;
  asyncFailureReason?: string;
  /** A number means exactly that many ms. */
  latency?: LatencyRange | number;
  insecureTransport?: boolean;
};

/** Fail the next `count` (default 1) calls of an operation with an error code. */
export type FaultRule = {
  operation: string;
  code: string;
  service?: ServiceName;
  count?: number;
  message?: string;
  /** Default: 500 for internal errors, 503 for SlowDown, the usual S3/portal status, else 400. */
  status?: number;
};

/** Make the next `count` (default 1) creation or deletion requests end FAILED. */
export type AsyncFailureRule = {
  kind: "creation" | "deletion";
  count?: number;
  reason?: string;
};

export type FaultControls = {
  settings(): FaultSettings;
  set(patch: FaultSettingsPatch): void;
  failNext(rule: FaultRule): void;
  failNextAssignment(rule: AsyncFailureRule): void;
  /** Restarts the fault schedule from a seed. */
  reseed(seed: number): void;
  /** Back to the start options: settings, queues, schedule and quota window. */
  reset(): void;
};

export type PortalSignIn = { accessToken: string; userId: string; expiresAt: number };

export type EmulatorSnapshot = {
  region: string;
  seed: number;
  instance: { instanceArn: string; identityStoreId: string; ownerAccountId: string; name: string } | null;
  accounts: string[];
  users: { userId: string; userName: string; displayName: string; emails: string[] }[];
  groups: { groupId: string; displayName: string; memberIds: string[] }[];
  permissionSets: { permissionSetArn: string; name: string; sessionDuration: string; description?: string }[];
  assignments: EmulatedAssignment[];
  pendingOperations: {
    kind: "creation" | "deletion";
    requestId: string;
    accountId: string;
    permissionSetArn: string;
    principalType: PrincipalType;
    principalId: string;
    completesAt: number;
  }[];
  roles: EmulatedRole[];
  buckets: {
    name: string;
    accountId: string;
    policy: string | null;
    encryption: BucketEncryption | null;
    objects: { key: string; size: number }[];
  }[];
  faults: FaultSettings;
};

export type AwsEmulator = {
  /** http://host:port, for `endpoint` of every client (S3 with forcePathStyle: true). */
  endpoint: string;
  region: string;
  close(): Promise<void>;
  seed(data: SeedData): SeedResult;
  assignments(): EmulatedAssignment[];
  roles(): EmulatedRole[];
  callLog(): CallRecord[];
  clearCallLog(): void;
  /** Most calls in any window of `windowMs` (default: sso-admin + identitystore calls). */
  maxCallsInAnyWindow(windowMs?: number, filter?: CallFilter): number;
  faults: FaultControls;
  registerCaller(accessKeyId: string, caller: CallerRegistration): void;
  /** Issues an SSO portal access token (for GetRoleCredentials) to a user, by userName or UserId. */
  signIn(user: string): PortalSignIn;
  /**
   * The browser step of the SSO OIDC device flow: the user (userName or UserId) signs in and
   * allows the device showing `userCode`; its next CreateToken answers a portal access token.
   */
  approveDevice(userCode: string, user: string): void;
  /** The user refuses the device: its next CreateToken is AccessDeniedException. */
  denyDevice(userCode: string): void;
  /** Device authorizations nobody has answered yet (what a browser would be showing). */
  pendingDevices(): Array<{ userCode: string; startUrl: string; clientId: string }>;
  /**
   * Removes a user (by userName or UserId) from the identity store, as an identity provider's SCIM
   * delete does. Its account assignments stay listed under the old id, and requests about it end
   * FAILED with AWS's "assignee was not found in directory" reason.
   */
  deleteUser(user: string): void;
  /**
   * A SCIM delete + create: the user is removed and comes back with the same userName and emails
   * under a new UserId, which is returned.
   */
  reprovisionUser(user: string): string;
  /** Replaces a user's emails (an email change made in the identity provider). */
  setUserEmails(user: string, emails: readonly string[]): void;
  snapshot(): EmulatorSnapshot;
};
