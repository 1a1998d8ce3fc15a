// The Slack app's composition root: the only place that reads the environment.
import { randomUUID } from "node:crypto";
import { loadSlackConfig } from "@keyturn/config";
import { createPrismaClient } from "@keyturn/db";
import { createIntegrations } from "@keyturn/integrations";
import { createLogger, exitOnSignal } from "@keyturn/observability";
import { createRedisConnection } from "@keyturn/queue";
import { createSlackApp } from "./app.js";
import { createRedisReplayMemory } from "./request-guard.js";

const loaded = loadSlackConfig(process.env, process.stdout.isTTY === true);
if (!loaded.ok) {
  console.error("keyturn slack: invalid configuration");
  for (const problem of loaded.problems) {
    console.error(`  - ${problem}`);
  }
  process.exit(1);
}
const { config } = loaded;

const logger = createLogger({ name: "keyturn-slack", level: config.log.level, pretty: config.log.pretty });
const db = createPrismaClient({ databaseUrl: config.databaseUrl });
const { transport } = config.slack;
// Fails fast while Redis is down: the guard then refuses requests (503) rather than waiting.
const redis =
  transport.mode === "http"
    ? createRedisConnection(transport.redis.url, "producer", { connectionName: "keyturn-slack" })
    : undefined;
redis?.on("error", (error) => logger.warn({ err: error }, "Redis (replay memory) error"));
const slack = createSlackApp({
  db,
  logger,
  clock: { now: () => new Date() },
  ids: { uuid: () => randomUUID() },
  slack: config.slack,
  aws: config.aws,
  integrations: createIntegrations(config.integrations),
  ...(redis === undefined || transport.mode !== "http"
    ? {}
    : { replays: createRedisReplayMemory({ redis, prefix: transport.redis.prefix }) }),
});

exitOnSignal(
  logger,
  async () => {
    await slack.stop();
    // A Redis that is down has nothing to flush: drop the connection instead of failing the stop.
    await redis?.quit().catch(() => redis.disconnect());
    await db.$disconnect();
  },
  { timeoutMs: 10_000 },
);

if (redis !== undefined && redis.status !== "ready") {
  // Until Redis answers, the request guard refuses Slack's requests (503): say why at start.
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => redis.once("ready", () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
  ]);
  if (!ready) {
    logger.warn("Redis is not answering: Slack requests are refused (503) until it does");
  }
}

try {
  const { port } = await slack.start();
  logger.info(
    { mode: config.slack.transport.mode, port, slackApiUrl: config.slack.apiUrl },
    port === null ? "connected to Slack (Socket Mode)" : "listening for Slack on /slack/events",
  );
} catch (error) {
  logger.fatal({ err: error }, "could not start the Slack app");
  redis?.disconnect();
  await db.$disconnect();
  process.exit(1);
}
