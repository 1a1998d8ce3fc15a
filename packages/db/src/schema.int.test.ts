// The migrations and schema.prisma must describe the same database: otherwise the generated client
// and the tables it runs against drift apart. (Prisma's own check, `migrate diff --from-migrations`,
// needs a shadow database applied by the engine we cannot run here; comparing dumps needs neither.)
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestDatabase, type TestDatabase } from "@keyturn/testkit/database";
import pg from "pg";
import { expect, inject, test } from "vitest";
import { migrate } from "./migrate.js";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const migrationsDir = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));
const prismaCli = fileURLToPath(new URL("../node_modules/.bin/prisma", import.meta.url));

test("applying the migrations yields the database that schema.prisma describes", async ({
  onTestFinished,
}) => {
  const migrated = await createTestDatabase({ empty: true });
  onTestFinished(() => migrated.drop());
  const fromSchema = await createTestDatabase({ empty: true });
  onTestFinished(() => fromSchema.drop());

  await migrate({ databaseUrl: migrated.url, migrationsDir });
  const { stdout: schemaSql } = await run(
    prismaCli,
    ["migrate", "diff", "--from-empty", "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
    // The Wasm schema engine connects before diffing; any database will do.
    { cwd: repoRoot, env: { ...process.env, DATABASE_URL: inject("testDatabaseAdminUrl") } },
  );
  expect(schemaSql).toContain("CREATE TABLE");
  await execute(fromSchema.url, schemaSql);

  const [fromMigrations, expected] = await Promise.all([dumpSchema(migrated), dumpSchema(fromSchema)]);
  expect(fromMigrations).toContain('CREATE TABLE public."AccessRequest"');
  expect(fromMigrations).toBe(expected);
});

test("the migrations directory is locked to PostgreSQL, as Prisma lays it out", async () => {
  const lock = await readFile(`${migrationsDir}/migration_lock.toml`, "utf8");
  expect(lock).toMatch(/^provider = "postgresql"$/m);
});

async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function dumpSchema(database: TestDatabase): Promise<string> {
  const { stdout } = await run("pg_dump", [
    "--schema-only",
    "--no-owner",
    "--no-privileges",
    "--exclude-table=public._prisma_migrations",
    `--dbname=${database.url}`,
  ]);
  // Comments name the database; \restrict lines carry a random key (pg_dump >= 15.14).
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("--") && !/^\\(un)?restrict /.test(line))
    .join("\n");
}
