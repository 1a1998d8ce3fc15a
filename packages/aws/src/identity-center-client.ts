import { randomUUID } from "node:crypto";
import { DescribeUserCommand, GetUserIdCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import {
  type AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import {
  AppError,
  type AssignmentTarget,
  type ChangeStatus,
  type CreationHooks,
  err,
  type IdentityCenter,
  type IdentityCenterUser,
  ok,
  type ProvisioningOutcome,
  type Result,
} from "@keyturn/usecases";
import { awsErrorMember, awsErrorName, awsRequestIdOf } from "./errors.js";
import { parseIsoDurationSeconds } from "./iso-duration.js";
import { type CallKind, createRateLimiter, type RateLimiter } from "./rate-limiter.js";
import {
  type AdapterLogger,
  type AwsCallObserver,
  type CallContext,
  callAws,
  type RetryOptions,
  retryPolicy,
} from "./retry.js";
import { type AwsCredentials, identityCenterService, sdkClientDefaults } from "./sdk-config.js";
import { systemTime, type TimeSource } from "./time-source.js";

export type IdentityCenterOptions = {
  region: string;
  /** Skips ListInstances when given together with identityStoreId. */
  instanceArn?: string;
  identityStoreId?: string;
  /**
   * One endpoint for sso-admin and identitystore (the emulator, a proxy). When omitted, the SDK
   * itself honours AWS_ENDPOINT_URL_SSO_ADMIN / AWS_ENDPOINT_URL_IDENTITYSTORE, then
   * AWS_ENDPOINT_URL, then `endpoint_url` in the shared config file (@smithy/core endpoints,
   * getEndpointUrlConfig: the env name is AWS_ENDPOINT_URL_ + the client's serviceId, "SSO Admin"
   * and "identitystore", upper-cased with spaces as "_"). This package reads no environment itself:
   * only composition roots do.
   */
  endpoint?: string;
  /** Default: the SDK's default provider chain. */
  credentials?: AwsCredentials;
  /** Share one per process across every adapter calling Identity Center. Default: a new one. */
  limiter?: RateLimiter;
  /** Give up waiting for a create/delete to finish after this long. Default 5 minutes. */
  maxPollMs?: number;
  /** First wait before polling a request's status; doubles up to 2 s. Default 100 ms. */
  pollIntervalMs?: number;
  retry?: RetryOptions;
  logger?: AdapterLogger;
  /** Told about every attempt (metrics); see AwsCallObserver. */
  onCall?: AwsCallObserver;
  /** Clock for backoff and polling. Default: the real one. */
  time?: TimeSource;
};

/** The IdentityCenter port, plus what the composition root needs to share and shut down. */
export type IdentityCenterAdapter = IdentityCenter & {
  readonly limiter: RateLimiter;
  /** Destroys the SDK clients' sockets. */
  close(): void;
};

type Instance = { instanceArn: string; identityStoreId: string };
type PermissionSetInfo = { name: string; arn: string; sessionDurationSeconds: number };

const MAX_POLL_INTERVAL_MS = 2000;
const DEFAULT_MAX_POLL_MS = 5 * 60_000;
const DEFAULT_SESSION_DURATION = "PT1H";
// How far AWS's CreatedDate may be behind our clock when looking for a request we sent.
const CLOCK_SKEW_MS = 60_000;

type Kind = "creation" | "deletion";

// The instance and the permission sets are looked up once per process, and every removal needs
// them first: held back as reads behind a burst of removals, they would stall this process's
// removals until other processes' had all gone out.
const METADATA: CallKind = "removal";

export function createIdentityCenter(options: IdentityCenterOptions): IdentityCenterAdapter {
  const clientConfig = {
    ...sdkClientDefaults,
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const ssoAdmin = new SSOAdminClient(clientConfig);
  const identityStore = new IdentitystoreClient(clientConfig);
  const limiter = options.limiter ?? createRateLimiter();
  const time = options.time ?? systemTime;
  const maxPollMs = options.maxPollMs ?? DEFAULT_MAX_POLL_MS;
  const firstPollMs = options.pollIntervalMs ?? 100;
  const ctx: CallContext = {
    policy: retryPolicy(options.retry),
    time,
    logger: options.logger,
    service: identityCenterService,
    onCall: options.onCall,
  };

  function call<T>(
    operation: string,
    kind: CallKind,
    send: () => Promise<T>,
    recover?: (error: unknown) => { value: T } | undefined,
    beforeSend?: () => Promise<(() => void) | undefined>,
  ): Promise<T> {
    return callAws(ctx, {
      operation,
      send,
      beforeAttempt: async () => {
        const lastCheck = await beforeSend?.();
        await limiter.acquire(kind);
        // After every wait, and synchronous: the request leaves in its quota slot.
        lastCheck?.();
      },
      ...(recover === undefined ? {} : { recover }),
    });
  }

  // ---- instance ------------------------------------------------------------------------------

  let instancePromise: Promise<Instance> | undefined;

  async function lookUpInstance(): Promise<Instance> {
    const { instanceArn, identityStoreId } = options;
    if (instanceArn !== undefined && identityStoreId !== undefined) {
      return { instanceArn, identityStoreId };
    }
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await call("ListInstances", METADATA, () =>
        ssoAdmin.send(
          new ListInstancesCommand({ MaxResults: 100, ...(token === undefined ? {} : { NextToken: token }) }),
        ),
      );
      for (const instance of page.Instances ?? []) {
        const matches =
          (instanceArn === undefined || instance.InstanceArn === instanceArn) &&
          (identityStoreId === undefined || instance.IdentityStoreId === identityStoreId);
        if (matches && instance.InstanceArn !== undefined && instance.IdentityStoreId !== undefined) {
          return { instanceArn: instance.InstanceArn, identityStoreId: instance.IdentityStoreId };
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    const wanted = instanceArn ?? identityStoreId;
    throw new AppError(
      "IDENTITY_CENTER_NOT_CONFIGURED",
      wanted === undefined
        ? `No IAM Identity Center instance is enabled in ${options.region}: enable Identity Center or configure the instance ARN and region.`
        : `IAM Identity Center instance ${wanted} was not found in ${options.region}: check the configured instance ARN, identity store id and region.`,
      { retryable: false },
    );
  }

  function instance(): Promise<Instance> {
    // Cached for the life of the adapter; a failed lookup is forgotten so the next call retries.
    instancePromise ??= lookUpInstance().catch((error: unknown) => {
      instancePromise = undefined;
      throw error;
    });
    return instancePromise;
  }

  // ---- permission sets -----------------------------------------------------------------------

  const setsByName = new Map<string, PermissionSetInfo>();
  const setsByArn = new Map<string, PermissionSetInfo>();
  let scan: Promise<void> | undefined;

  async function describePermissionSet(instanceArn: string, arn: string): Promise<PermissionSetInfo> {
    const output = await call("DescribePermissionSet", METADATA, () =>
      ssoAdmin.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })),
    );
    const name = output.PermissionSet?.Name;
    const duration = output.PermissionSet?.SessionDuration ?? DEFAULT_SESSION_DURATION;
    const sessionDurationSeconds = parseIsoDurationSeconds(duration);
    if (name === undefined || sessionDurationSeconds === undefined) {
      throw new AppError(
        "AWS_UNEXPECTED_RESPONSE",
        `DescribePermissionSet returned no name or an unreadable SessionDuration (${duration}) for ${arn}`,
        { retryable: false },
      );
    }
    return { name, arn, sessionDurationSeconds };
  }

  async function scanPermissionSets(): Promise<void> {
    const { instanceArn } = await instance();
    const found: PermissionSetInfo[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await call("ListPermissionSets", METADATA, () =>
        ssoAdmin.send(
          new ListPermissionSetsCommand({
            InstanceArn: instanceArn,
            MaxResults: 100,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      // Sets are immutable in name, so an ARN described once is not described again; the limiter
      // paces the parallel describes.
      const described = await Promise.all(
        (page.PermissionSets ?? []).map(
          (arn) => setsByArn.get(arn) ?? describePermissionSet(instanceArn, arn),
        ),
      );
      found.push(...described);
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    setsByName.clear();
    setsByArn.clear();
    for (const set of found) {
      setsByName.set(set.name, set);
      setsByArn.set(set.arn, set);
    }
  }

  async function permissionSetInfo(name: string): Promise<PermissionSetInfo> {
    const cached = setsByName.get(name);
    if (cached !== undefined) {
      return cached;
    }
    // Concurrent misses share one scan instead of listing the sets once each.
    scan ??= scanPermissionSets().finally(() => {
      scan = undefined;
    });
    await scan;
    const found = setsByName.get(name);
    if (found === undefined) {
      throw new AppError(
        "PERMISSION_SET_NOT_FOUND",
        `Permission set "${name}" does not exist in IAM Identity Center: check the flow's target or create the set.`,
        { retryable: false },
      );
    }
    return found;
  }

  /**
   * Runs `run` with the set's cached ARN. A ResourceNotFound may mean the set was deleted and
   * recreated (same name, new ARN), so the entry is dropped and the call tried once more with a
   * fresh lookup, which also turns "the set is gone" into PERMISSION_SET_NOT_FOUND.
   */
  async function withPermissionSetArn<T>(name: string, run: (arn: string) => Promise<T>): Promise<T> {
    const first = await permissionSetInfo(name);
    try {
      return await run(first.arn);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "AWS_RESOURCE_NOT_FOUND")) {
        throw error;
      }
      if (setsByName.get(name)?.arn === first.arn) {
        setsByName.delete(name);
      }
      setsByArn.delete(first.arn);
      options.logger?.debug(
        { permissionSet: name, arn: first.arn },
        "permission set ARN not found; re-resolving",
      );
      const second = await permissionSetInfo(name);
      return run(second.arn);
    }
  }

  // ---- users ---------------------------------------------------------------------------------

  async function userIdBy(
    identityStoreId: string,
    attributePath: "emails.value" | "userName",
    value: string,
  ): Promise<string | undefined> {
    return call(
      "GetUserId",
      "read",
      async () => {
        const output = await identityStore.send(
          new GetUserIdCommand({
            IdentityStoreId: identityStoreId,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: attributePath, AttributeValue: value } },
          }),
        );
        return output.UserId;
      },
      // A missing user is an answer; a missing identity store is a configuration error and thrown.
      (error) =>
        awsErrorName(error) === "ResourceNotFoundException" &&
        awsErrorMember(error, "ResourceType") !== "IDENTITY_STORE"
          ? { value: undefined }
          : undefined,
    );
  }

  async function findUserByEmail(email: string): Promise<Result<IdentityCenterUser>> {
    const { identityStoreId } = await instance();
    const wanted = email.trim();
    // Both lookups always run: a user whose user name is someone else's email would otherwise be
    // matched silently to whichever lookup happened to run first.
    const [byEmail, byUserName] = await Promise.all([
      userIdBy(identityStoreId, "emails.value", wanted),
      userIdBy(identityStoreId, "userName", wanted),
    ]);
    if (byEmail !== undefined && byUserName !== undefined && byEmail !== byUserName) {
      return err(
        "IDENTITY_AMBIGUOUS",
        `"${wanted}" matches two IAM Identity Center users: the email of one (${byEmail}) and the user name of another (${byUserName}). Ask an Identity Center administrator to make it unique, or have a Keyturn admin pin the identity to the right user.`,
        { emailUserId: byEmail, userNameUserId: byUserName },
      );
    }
    const userId = byEmail ?? byUserName;
    if (userId === undefined) {
      return err(
        "IDENTITY_NOT_FOUND",
        `No IAM Identity Center user has the email or user name "${wanted}". Ask an Identity Center administrator to add this address to your user (or use the email your Identity Center user has).`,
      );
    }
    const user = await call("DescribeUser", "read", () =>
      identityStore.send(new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId })),
    );
    return ok({ userId, userName: user.UserName ?? wanted });
  }

  // ---- assignments ---------------------------------------------------------------------------

  async function listPrincipals(input: {
    accountId: string;
    permissionSetName: string;
  }): Promise<Array<{ principalType: "USER" | "GROUP"; principalId: string }>> {
    const { instanceArn } = await instance();
    return withPermissionSetArn(input.permissionSetName, async (arn) => {
      const principals: Array<{ principalType: "USER" | "GROUP"; principalId: string }> = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await call("ListAccountAssignments", "read", () =>
          ssoAdmin.send(
            new ListAccountAssignmentsCommand({
              InstanceArn: instanceArn,
              AccountId: input.accountId,
              PermissionSetArn: arn,
              MaxResults: 100,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          ),
        );
        for (const assignment of page.AccountAssignments ?? []) {
          const { PrincipalType: principalType, PrincipalId: principalId } = assignment;
          if ((principalType === "USER" || principalType === "GROUP") && principalId !== undefined) {
            principals.push({ principalType, principalId });
          }
        }
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      return principals;
    });
  }

  /**
   * One principal's assignments in one account, usually a single page. Not `listPrincipals`: AWS
   * pages ListAccountAssignments with tokens that, like offsets, shift when an assignment on an
   * earlier page is deleted between calls, so a present assignment could be skipped and taken as
   * absent (a second Create, or a removal marked done while access stays). A principal's own
   * assignments in one account change only through its own serialized reconciles.
   */
  async function hasAssignment(target: AssignmentTarget): Promise<boolean> {
    const { instanceArn } = await instance();
    const wanted = await permissionSetInfo(target.permissionSetName);
    const arns = new Set<string>();
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await call("ListAccountAssignmentsForPrincipal", "read", () =>
        ssoAdmin.send(
          new ListAccountAssignmentsForPrincipalCommand({
            InstanceArn: instanceArn,
            PrincipalType: "USER",
            PrincipalId: target.principalId,
            Filter: { AccountId: target.accountId },
            MaxResults: 100,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      for (const assignment of page.AccountAssignments ?? []) {
        if (assignment.AccountId === target.accountId && assignment.PermissionSetArn !== undefined) {
          arns.add(assignment.PermissionSetArn);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    if (arns.has(wanted.arn)) {
      return true;
    }
    if ([...arns].every((arn) => setsByArn.has(arn))) {
      return false;
    }
    // An ARN we have never seen may be the set deleted and recreated under the same name: answer
    // "absent" only against a fresh lookup, or a live assignment could be taken as removed.
    if (setsByName.get(target.permissionSetName)?.arn === wanted.arn) {
      setsByName.delete(target.permissionSetName);
    }
    const fresh = await permissionSetInfo(target.permissionSetName);
    return arns.has(fresh.arn);
  }

  const DESCRIBE: Record<Kind, string> = {
    creation: "DescribeAccountAssignmentCreationStatus",
    deletion: "DescribeAccountAssignmentDeletionStatus",
  };

  async function sendDescribe(
    kind: Kind,
    instanceArn: string,
    requestId: string,
  ): Promise<AccountAssignmentOperationStatus | undefined> {
    if (kind === "creation") {
      const output = await ssoAdmin.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: instanceArn,
          AccountAssignmentCreationRequestId: requestId,
        }),
      );
      return output.AccountAssignmentCreationStatus;
    }
    const output = await ssoAdmin.send(
      new DescribeAccountAssignmentDeletionStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentDeletionRequestId: requestId,
      }),
    );
    return output.AccountAssignmentDeletionStatus;
  }

  function describeStatus(kind: Kind, instanceArn: string, requestId: string) {
    // A deletion's poll is a read, not a removal: while removals queue for the quota, every
    // DeleteAccountAssignment goes out before the polls of those already sent, so access ends
    // sooner for all of them.
    return call(DESCRIBE[kind], kind === "creation" ? "creation" : "read", () =>
      sendDescribe(kind, instanceArn, requestId),
    );
  }

  /** Where an earlier create or delete stands, by AWS's id; null when AWS no longer knows it. */
  async function statusById(kind: Kind, requestId: string): Promise<ChangeStatus | null> {
    const { instanceArn } = await instance();
    const status = await call(
      DESCRIBE[kind],
      "read",
      () => sendDescribe(kind, instanceArn, requestId),
      // The id is our own record of a request AWS accepted; AWS forgetting it is an answer.
      (error) => (awsErrorName(error) === "ResourceNotFoundException" ? { value: null } : undefined),
    );
    return status === null ? null : changeStatus(DESCRIBE[kind], status);
  }

  function changeStatus(
    operation: string,
    status: AccountAssignmentOperationStatus | undefined,
  ): ChangeStatus {
    const requestId = status?.RequestId;
    if (requestId === undefined) {
      throw new AppError("AWS_UNEXPECTED_RESPONSE", `${operation} returned no request id`, {
        retryable: false,
      });
    }
    const createdAt = status?.CreatedDate === undefined ? {} : { createdAt: status.CreatedDate };
    if (status?.Status === "SUCCEEDED") {
      return { status: "SUCCEEDED", requestId, ...createdAt };
    }
    if (status?.Status === "FAILED") {
      return {
        status: "FAILED",
        requestId,
        failureReason: status.FailureReason ?? "AWS reported FAILED without a reason",
        ...createdAt,
      };
    }
    return { status: "IN_PROGRESS", requestId, ...createdAt };
  }

  /**
   * Waits for an asynchronous create/delete to end. Failures such as an IAM role quota show only
   * here, as FAILED + FailureReason (aws-samples/iam-identity-center-team#522), so the adapter
   * always waits. The wait is bounded: a request still IN_PROGRESS after maxPollMs becomes a
   * retryable PROVISIONING_TIMEOUT naming AWS's request id, and the reconciler tries again later.
   */
  async function settle(
    kind: Kind,
    instanceArn: string,
    initial: AccountAssignmentOperationStatus | undefined,
  ): Promise<ProvisioningOutcome> {
    const operation = kind === "creation" ? "CreateAccountAssignment" : "DeleteAccountAssignment";
    const requestId = initial?.RequestId;
    if (requestId === undefined) {
      throw new AppError("AWS_UNEXPECTED_RESPONSE", `${operation} returned no request id`, {
        retryable: false,
      });
    }
    const deadline = time.now() + maxPollMs;
    let status = initial;
    let interval = firstPollMs;
    while (status?.Status === "IN_PROGRESS" || status?.Status === undefined) {
      const remaining = deadline - time.now();
      if (remaining <= 0) {
        throw new AppError(
          "PROVISIONING_TIMEOUT",
          `${operation} request ${requestId} was still IN_PROGRESS after ${Math.round(maxPollMs / 1000)} s; it may still complete in AWS.`,
          { retryable: true },
        );
      }
      await time.sleep(Math.min(interval, remaining));
      interval = Math.min(interval * 2, MAX_POLL_INTERVAL_MS);
      status = await describeStatus(kind, instanceArn, requestId);
    }
    const createdDate = status.CreatedDate ?? initial?.CreatedDate;
    const createdAt = createdDate === undefined ? {} : { createdAt: createdDate };
    if (status.Status === "FAILED") {
      return {
        status: "FAILED",
        requestId,
        failureReason: status.FailureReason ?? "AWS reported FAILED without a reason",
        ...createdAt,
      };
    }
    return { status: "SUCCEEDED", requestId, ...createdAt };
  }

  async function createAssignment(
    target: AssignmentTarget,
    hooks: CreationHooks = {},
  ): Promise<ProvisioningOutcome> {
    const { instanceArn } = await instance();
    // Resolve the set before taking a slot, so a slow first lookup does not hold one.
    await permissionSetInfo(target.permissionSetName);
    return limiter.withCreationSlot(async () => {
      const initial = await withPermissionSetArn(target.permissionSetName, (arn) =>
        call(
          "CreateAccountAssignment",
          "creation",
          async () => {
            const output = await ssoAdmin.send(
              new CreateAccountAssignmentCommand({
                InstanceArn: instanceArn,
                TargetId: target.accountId,
                TargetType: "AWS_ACCOUNT",
                PermissionSetArn: arn,
                PrincipalType: "USER",
                PrincipalId: target.principalId,
              }),
            );
            return output.AccountAssignmentCreationStatus;
          },
          undefined,
          hooks.beforeSend,
        ),
      );
      const accepted = changeStatus("CreateAccountAssignment", initial);
      await hooks.accepted?.({
        requestId: accepted.requestId,
        ...(accepted.createdAt === undefined ? {} : { createdAt: accepted.createdAt }),
      });
      return settle("creation", instanceArn, initial);
    });
  }

  /**
   * Only after a crash in the instant between AWS accepting a create and Keyturn saving its id:
   * every creation request AWS lists (whatever its status) that it accepted since `since`, minus
   * a minute of clock skew, described until one of this target turns up. AWS lists a request from
   * the moment it accepts it, so "none" means the create never reached AWS.
   */
  async function findCreation(target: AssignmentTarget, since: Date): Promise<ChangeStatus | null> {
    const { instanceArn } = await instance();
    const { arn } = await permissionSetInfo(target.permissionSetName);
    const from = since.getTime() - CLOCK_SKEW_MS;
    const candidates: Array<{ requestId: string; createdAt: number }> = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await call("ListAccountAssignmentCreationStatus", "read", () =>
        ssoAdmin.send(
          new ListAccountAssignmentCreationStatusCommand({
            InstanceArn: instanceArn,
            MaxResults: 100,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      for (const entry of page.AccountAssignmentsCreationStatus ?? []) {
        const createdAt = entry.CreatedDate?.getTime();
        if (entry.RequestId !== undefined && (createdAt === undefined || createdAt >= from)) {
          candidates.push({ requestId: entry.RequestId, createdAt: createdAt ?? Number.POSITIVE_INFINITY });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    // Newest first: a later request of the same target is the one that counts.
    candidates.sort((a, b) => b.createdAt - a.createdAt);
    for (const candidate of candidates) {
      const status = await call(DESCRIBE.creation, "read", () =>
        sendDescribe("creation", instanceArn, candidate.requestId),
      );
      if (
        status?.TargetId === target.accountId &&
        status.PermissionSetArn === arn &&
        status.PrincipalType === "USER" &&
        status.PrincipalId === target.principalId
      ) {
        return changeStatus("DescribeAccountAssignmentCreationStatus", status);
      }
    }
    return null;
  }

  /**
   * AWS's API reference lists ResourceNotFoundException among DeleteAccountAssignment's errors
   * without saying when; moto answers it for an assignment that does not exist, the project's
   * emulator a request that ends FAILED (identity-center-contract.int.test.ts). Either is a request
   * that ended without deleting anything, so a refusal that outlives the set-ARN re-resolution is
   * answered as FAILED: the reconciler then looks whether the assignment is still there, as after
   * any failed delete, instead of failing the removal for good.
   */
  async function sendDeletion(
    instanceArn: string,
    target: AssignmentTarget,
  ): Promise<AccountAssignmentOperationStatus | undefined> {
    try {
      return await sendDeletionCall(instanceArn, target);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "AWS_RESOURCE_NOT_FOUND")) {
        throw error;
      }
      return {
        Status: "FAILED",
        RequestId: awsRequestIdOf(error.cause) ?? `not-found-${randomUUID()}`,
        FailureReason: error.message,
      };
    }
  }

  async function sendDeletionCall(instanceArn: string, target: AssignmentTarget) {
    return withPermissionSetArn(target.permissionSetName, (arn) =>
      call("DeleteAccountAssignment", "removal", async () => {
        const output = await ssoAdmin.send(
          new DeleteAccountAssignmentCommand({
            InstanceArn: instanceArn,
            TargetId: target.accountId,
            TargetType: "AWS_ACCOUNT",
            PermissionSetArn: arn,
            PrincipalType: "USER",
            PrincipalId: target.principalId,
          }),
        );
        return output.AccountAssignmentDeletionStatus;
      }),
    );
  }

  async function deleteAssignment(target: AssignmentTarget): Promise<ProvisioningOutcome> {
    const { instanceArn } = await instance();
    return settle("deletion", instanceArn, await sendDeletion(instanceArn, target));
  }

  async function startDeletion(target: AssignmentTarget): Promise<ChangeStatus> {
    const { instanceArn } = await instance();
    return changeStatus("DeleteAccountAssignment", await sendDeletion(instanceArn, target));
  }

  async function userExists(userId: string): Promise<boolean> {
    const { identityStoreId } = await instance();
    return call(
      "DescribeUser",
      "read",
      async () => {
        await identityStore.send(
          new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId }),
        );
        return true;
      },
      // A missing user is the answer asked for; a missing identity store is a configuration error.
      (error) =>
        awsErrorName(error) === "ResourceNotFoundException" &&
        awsErrorMember(error, "ResourceType") !== "IDENTITY_STORE"
          ? { value: false }
          : undefined,
    );
  }

  return {
    limiter,
    findUserByEmail,
    hasAssignment,
    createAssignment,
    creationStatus: (requestId) => statusById("creation", requestId),
    findCreation,
    userExists,
    deleteAssignment,
    startDeletion,
    deletionStatus: (requestId) => statusById("deletion", requestId),
    listAssignments: (input) => listPrincipals(input),
    permissionSet: async (name) => {
      const { arn, sessionDurationSeconds } = await permissionSetInfo(name);
      return { arn, sessionDurationSeconds };
    },
    close: () => {
      ssoAdmin.destroy();
      identityStore.destroy();
    },
  };
}
