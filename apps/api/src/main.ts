// The API's composition root: the only place that reads the environment and owns process lifetime.
import { randomUUID } from "node:crypto";
import { createBucketPolicyStore, createKeyturnIdentity } from "@keyturn/aws";
import { loadApiConfig } from "@keyturn/config";
import { createPrismaClient } from "@keyturn/db";
import { createIntegrations } from "@keyturn/integrations";
import { createLogger, exitOnSignal } from "@keyturn/observability";
import { createRedisConnection } from "@keyturn/queue";
import { buildApp } from "./app.js";
import { loadBucketPolicyS3Config } from "./bucket-policy-env.js";
import { createApiMetrics } from "./plugins/metrics.js";

const loaded = loadApiConfig(process.env, process.stdout.isTTY === true);
if (!loaded.ok) {
  console.error("keyturn api: invalid configuration");
  for (const problem of loaded.problems) {
    console.error(`  - ${problem}`);
  }
  process.exit(1);
}
const { config } = loaded;
const s3 = loadBucketPolicyS3Config(process.env);
if (!s3.ok) {
  console.error("keyturn api: invalid S3 configuration");
  for (const problem of s3.problems) {
    console.error(`  - ${problem}`);
  }
  process.exit(1);
}

const logger = createLogger({ name: "keyturn-api", level: config.log.level, pretty: config.log.pretty });
const prisma = createPrismaClient({ databaseUrl: config.databaseUrl });
// Before the S3 store, which counts its calls into it.
const metrics = createApiMetrics(prisma);
// The queue dashboard only reads and acts when someone looks: a producer connection fails fast
// while Redis is down instead of holding the page.
const redis =
  config.redis === undefined
    ? undefined
    : createRedisConnection(config.redis.url, "producer", { connectionName: "keyturn-api" });
const bucketPolicies =
  s3.config === null
    ? undefined
    : createBucketPolicyStore({
        region: s3.config.region,
        forcePathStyle: s3.config.forcePathStyle,
        // Few attempts: an API caller waits on them, and the use case holds a row lock meanwhile.
        retry: { maxAttempts: 3 },
        logger,
        onCall: metrics.observeAwsCall,
      });
// Who Keyturn is: the role a bucket spec must keep in administer-resource and read-config.
const keyturn =
  s3.config === null
    ? undefined
    : createKeyturnIdentity({
        region: s3.config.region,
        ...(s3.config.keyturnRoleArn === undefined ? {} : { roleArn: s3.config.keyturnRoleArn }),
        retry: { maxAttempts: 3 },
        logger,
        onCall: metrics.observeAwsCall,
      });
const integrations = createIntegrations(config.integrations);

const app = await buildApp({
  prisma,
  logger,
  clock: { now: () => new Date() },
  ids: { uuid: () => randomUUID() },
  config: config.api,
  metrics,
  integrations,
  webhookSecrets: {
    ...(config.webhooks.jiraSecret === undefined ? {} : { jira: config.webhooks.jiraSecret }),
    ...(config.webhooks.linearSecret === undefined ? {} : { linear: config.webhooks.linearSecret }),
  },
  ...(bucketPolicies === undefined ? {} : { bucketPolicies }),
  ...(keyturn === undefined ? {} : { keyturn }),
  ...(redis === undefined || config.redis === undefined
    ? {}
    : { queues: { connection: redis, prefix: config.redis.prefix } }),
});

exitOnSignal(
  logger,
  async () => {
    await app.close();
    bucketPolicies?.close();
    keyturn?.close();
    await redis?.quit();
    await prisma.$disconnect();
  },
  { timeoutMs: 10_000 },
);

try {
  await app.listen({ host: config.api.host, port: config.api.port });
} catch (error) {
  logger.fatal({ err: error }, "could not start listening");
  redis?.disconnect();
  await prisma.$disconnect();
  process.exit(1);
}
