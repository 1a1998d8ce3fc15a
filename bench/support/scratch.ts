// What a bench sets up and must take down again, even when interrupted: a migrated database of
// its own, a Redis key prefix of its own, and the processes it started.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { migrate } from "../../packages/db/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import {
  databaseUrl,
  newTestDatabaseName,
  quoteIdentifier,
  withAdmin,
} from "../../packages/testkit/src/database/admin.js";

// Where the test suite finds them too (a bench is a script: no config package involved).
const { KEYTURN_TEST_PG_URL, KEYTURN_TEST_REDIS_URL } = process.env;
export const ADMIN_URL = KEYTURN_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = KEYTURN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const migrationsDir = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

// Undone last-in first-out, once: at the end of the run, or on Ctrl-C / SIGTERM.
const undo: Array<{ label: string; run: () => Promise<unknown> }> = [];

/** Registers something to undo when the bench ends or is interrupted. */
export function onCleanUp(label: string, run: () => Promise<unknown>): void {
  undo.push({ label, run });
}

export async function cleanUp(): Promise<void> {
  for (let step = undo.pop(); step !== undefined; step = undo.pop()) {
    try {
      await step.run();
    } catch (error) {
      console.error(`clean-up of ${step.label} failed: ${error instanceof Error ? error.message : error}`);
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/**
 * A database migrated by the project's migrate command. Named like a test database, so that a
 * leftover of a killed run is dropped by a later test run (global-setup drops stale ones).
 */
export async function createScratchDatabase(): Promise<{ name: string; url: string }> {
  const name = newTestDatabaseName();
  const url = databaseUrl(ADMIN_URL, name);
  onCleanUp(`database ${name}`, () =>
    withAdmin(ADMIN_URL, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    ),
  );
  await migrate({ databaseUrl: url, migrationsDir, logger: { info: () => undefined, warn: console.warn } });
  return { name, url };
}

/** A Redis key prefix nobody else uses, its keys deleted at clean-up. */
export function scratchRedisPrefix(bench: string): string {
  const prefix = `kt-bench-${bench}-${randomUUID().slice(0, 8)}`;
  onCleanUp(`redis prefix ${prefix}`, () => clearRedisPrefix(prefix));
  return prefix;
}

async function clearRedisPrefix(prefix: string): Promise<void> {
  const redis = createRedisConnection(REDIS_URL, "worker");
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
