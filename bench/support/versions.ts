// Prints the versions of the PostgreSQL and Redis the benches use, as JSON (for bench/RESULTS.md).
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { withAdmin } from "../../packages/testkit/src/database/admin.js";
import { ADMIN_URL, REDIS_URL } from "./scratch.js";

async function postgres(): Promise<string> {
  const rows = await withAdmin(ADMIN_URL, (admin) => admin.query<{ v: string }>("SELECT version() AS v"));
  return rows.rows[0]?.v.split(",")[0] ?? "?";
}

async function redis(): Promise<string> {
  const connection = createRedisConnection(REDIS_URL, "worker");
  try {
    const info = await connection.info("server");
    return `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? "?"}`;
  } finally {
    await connection.quit();
  }
}

const settle = (p: Promise<string>) =>
  p.catch((error: unknown) => `unavailable (${error instanceof Error ? error.message : error})`);
process.stdout.write(
  `${JSON.stringify({ postgres: await settle(postgres()), redis: await settle(redis()) })}\n`,
);
