import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import type { IdentityCenter } from "@keyturn/usecases";
import { createAssignmentCalls } from "./identity-center-assignments.js";
import type { IdentityCenterCall, IdentityCenterContext } from "./identity-center-context.js";
import { createInstanceMetadata } from "./identity-center-metadata.js";
import { createUserLookups } from "./identity-center-users.js";
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

// The Identity Center adapter: the SDK clients, the rate limiter and the one way to call AWS here;
// its parts are by concern: identity-center-metadata.ts (the instance and the permission-set
// cache), identity-center-assignments.ts (assignments and their status), identity-center-users.ts.

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

const DEFAULT_MAX_POLL_MS = 5 * 60_000;

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

  const call: IdentityCenterCall = <T>(
    operation: string,
    kind: CallKind,
    send: () => Promise<T>,
    recover?: (error: unknown) => { value: T } | undefined,
    beforeSend?: () => Promise<(() => void) | undefined>,
  ): Promise<T> => {
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
  };

  const shared: IdentityCenterContext = { ssoAdmin, identityStore, call, options };
  const metadata = createInstanceMetadata(shared);
  const { findUserByEmail, userExists } = createUserLookups(shared, metadata);
  const {
    listPrincipals,
    hasAssignment,
    statusById,
    createAssignment,
    findCreation,
    deleteAssignment,
    startDeletion,
  } = createAssignmentCalls(shared, metadata, { limiter, time, maxPollMs, firstPollMs });
  const { permissionSetInfo } = metadata;

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
