// The worker's composition root: the only file that reads the environment.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createBucketPolicyStore, createIdentityCenter, createKeyturnIdentity } from "@keyturn/aws";
import { loadWorkerConfig } from "@keyturn/config";
import {
  createAssignmentClaims,
  createBucketPolicyUnitOfWork,
  createPrismaClient,
  createSlackNotifierStore,
  createUnitOfWork,
} from "@keyturn/db";
import { createIntegrations } from "@keyturn/integrations";
import { createLogger, exitOnSignal, logStateChanges } from "@keyturn/observability";
import { createRedisConnection, createRedisRateLimiter } from "@keyturn/queue";
import { createSlackNotifier, createSlackPeopleDirectory, createSlackWebClient } from "@keyturn/slack";
import { MAX_SESSION_SECONDS } from "@keyturn/usecases";
import { createLogNotifier } from "./log-notifier.js";
import { createWorkerMetrics } from "./metrics.js";
import { startWorker } from "./worker-app.js";

const loaded = loadWorkerConfig(process.env, process.stdout.isTTY === true);
if (!loaded.ok) {
  console.error(`keyturn worker: invalid configuration:\n  ${loaded.problems.join("\n  ")}`);
  process.exit(1);
}
const config = loaded.config;
const logger = createLogger({ name: "keyturn-worker", level: config.log.level, pretty: config.log.pretty });
const db = createPrismaClient({ databaseUrl: config.databaseUrl });
// Before the adapters: they count their AWS and Slack calls into it.
const metrics = createWorkerMetrics();
const redis = {
  worker: createRedisConnection(config.redis.url, "worker", { connectionName: "keyturn-worker" }),
  producer: createRedisConnection(config.redis.url, "producer", { connectionName: "keyturn-producer" }),
};
const limiter = createRedisRateLimiter({
  redis: redis.producer,
  prefix: config.redis.prefix,
  callsPerSecond: config.aws.callsPerSecond,
  maxOutstandingCreations: config.aws.maxOutstandingCreations,
  logger,
});
const identityCenter = createIdentityCenter({
  region: config.aws.region,
  ...(config.aws.instanceArn === undefined ? {} : { instanceArn: config.aws.instanceArn }),
  ...(config.aws.identityStoreId === undefined ? {} : { identityStoreId: config.aws.identityStoreId }),
  limiter,
  logger,
  onCall: metrics.observeAwsCall,
});
const clock = { now: () => new Date() };
const ids = { uuid: randomUUID };
// Who Keyturn is, so no bucket spec it applies can lock it out of the policy it manages.
const keyturnIdentity = createKeyturnIdentity({
  region: config.aws.region,
  ...(config.aws.keyturnRoleArn === undefined ? {} : { roleArn: config.aws.keyturnRoleArn }),
  onCall: metrics.observeAwsCall,
});
const owner = `${hostname()}:${process.pid}`;
const claims = createAssignmentClaims({
  databaseUrl: config.databaseUrl,
  onConnectionLost: (error) =>
    logger.warn(
      { err: error },
      "the claims connection broke: runs holding claims stop before their next AWS change",
    ),
});
// Retries belong to the job system (backoff, visible attempts), not to the client.
const slackClient =
  config.slack === undefined
    ? undefined
    : createSlackWebClient({
        token: config.slack.botToken,
        apiUrl: config.slack.apiUrl,
        onApiError: metrics.observeSlackApiError,
      });
const worker = await startWorker({
  config,
  db,
  redis,
  metrics,
  reconcile: {
    uow: createUnitOfWork(db, { clock, ids, onCommitted: logStateChanges(logger) }),
    clock,
    ids,
    identityCenter,
    claims,
    ...(slackClient === undefined ? {} : { people: createSlackPeopleDirectory(slackClient) }),
  },
  identityCenter,
  integrations: createIntegrations(config.integrations),
  bucketPolicies: {
    uow: createBucketPolicyUnitOfWork(db, { clock, ids, onCommitted: logStateChanges(logger) }),
    clock,
    store: createBucketPolicyStore({
      region: config.aws.region,
      forcePathStyle: config.aws.s3ForcePathStyle,
      onCall: metrics.observeAwsCall,
    }),
    keyturn: keyturnIdentity,
    // From the adapter's cache of the sets (no call once warm); the longest AWS allows when
    // Identity Center cannot answer, so a cut-off is never armed short.
    sessionDurationSeconds: (name) =>
      identityCenter.permissionSet(name).then(
        (set) => set.sessionDurationSeconds,
        (error: unknown) => {
          logger.warn({ err: error, permissionSet: name }, "SessionDuration unknown; cutting off for 12 h");
          return MAX_SESSION_SECONDS;
        },
      ),
  },
  notifier:
    config.slack === undefined || slackClient === undefined
      ? createLogNotifier(logger)
      : createSlackNotifier({
          client: slackClient,
          store: createSlackNotifierStore(db),
          config: {
            portalUrl: config.slack.portalUrl,
            ssoRegion: config.slack.ssoRegion,
            ...(config.slack.defaultApprovalChannel === undefined
              ? {}
              : { defaultApprovalChannel: config.slack.defaultApprovalChannel }),
          },
          logger,
        }),
  logger,
});
logger.info({ owner, health: worker.healthUrl }, "keyturn worker started");

exitOnSignal(
  logger,
  async () => {
    await worker.close();
    await claims.close();
    identityCenter.close();
    await Promise.allSettled([redis.worker.quit(), redis.producer.quit(), db.$disconnect()]);
  },
  { timeoutMs: 30_000, message: "stopping: finishing the jobs in progress" },
);
