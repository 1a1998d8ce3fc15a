// The Slack app's composition root: the only place that reads the environment.
import { randomUUID } from "node:crypto";
import { loadSlackConfig } from "@keyturn/config";
import { createPrismaClient } from "@keyturn/db";
import { createLogger, exitOnSignal } from "@keyturn/observability";
import { createSlackApp } from "./app.js";

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
const slack = createSlackApp({
  db,
  logger,
  clock: { now: () => new Date() },
  ids: { uuid: () => randomUUID() },
  slack: config.slack,
  aws: config.aws,
});

exitOnSignal(
  logger,
  async () => {
    await slack.stop();
    await db.$disconnect();
  },
  { timeoutMs: 10_000 },
);

try {
  const { port } = await slack.start();
  logger.info(
    { mode: config.slack.transport.mode, port, slackApiUrl: config.slack.apiUrl },
    port === null ? "connected to Slack (Socket Mode)" : "listening for Slack on /slack/events",
  );
} catch (error) {
  logger.fatal({ err: error }, "could not start the Slack app");
  await db.$disconnect();
  process.exit(1);
}
