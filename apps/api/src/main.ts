// The API's composition root: the only place that reads the environment and owns process lifetime.
import { randomUUID } from "node:crypto";
import { loadApiConfig } from "@keyturn/config";
import { createPrismaClient } from "@keyturn/db";
import { createLogger } from "@keyturn/observability";
import { buildApp } from "./app.js";

const loaded = loadApiConfig(process.env, process.stdout.isTTY === true);
if (!loaded.ok) {
  console.error("keyturn api: invalid configuration");
  for (const problem of loaded.problems) {
    console.error(`  - ${problem}`);
  }
  process.exit(1);
}
const { config } = loaded;

const logger = createLogger({ name: "keyturn-api", level: config.log.level, pretty: config.log.pretty });
const prisma = createPrismaClient({ databaseUrl: config.databaseUrl });
const app = await buildApp({
  prisma,
  logger,
  clock: { now: () => new Date() },
  ids: { uuid: () => randomUUID() },
  config: config.api,
});

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) {
    return;
  }
  closing = true;
  logger.info({ signal }, "shutting down");
  // A second signal or a stuck close must not keep the process alive forever.
  const force = setTimeout(() => {
    logger.error("shutdown timed out; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  try {
    await app.close();
    await prisma.$disconnect();
    process.exitCode = 0;
  } catch (error) {
    logger.error({ err: error }, "error during shutdown");
    process.exitCode = 1;
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void shutdown(signal);
  });
}

try {
  await app.listen({ host: config.api.host, port: config.api.port });
} catch (error) {
  logger.fatal({ err: error }, "could not start listening");
  await prisma.$disconnect();
  process.exit(1);
}
