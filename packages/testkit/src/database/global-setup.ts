// Global setup of the vitest "int" project: makes sure a migrated template database exists for the
// current prisma/migrations, so that each test file gets a fresh database by cloning it (a few tens
// of milliseconds) instead of running the migrations again.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type pg from "pg";
import type { TestProject } from "vitest/node";
import {
  createdAtOf,
  databaseUrl,
  newTestDatabaseName,
  OBJECT_IN_USE,
  pgCode,
  quoteIdentifier,
  retryWhileInUse,
  TEST_DATABASE_PREFIX,
  withAdmin,
} from "./admin.js";
import type {} from "./provided-context.js";

const DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_PREFIX = "keyturn_tpl_";
// Older than any test run: whatever is left of it was left by a run that died.
const STALE_AFTER_MS = 3 * 60 * 60 * 1000;
const LAST_USED = "keyturn test template, last used at ms ";
const migrationsDir = fileURLToPath(new URL("../../../../prisma/migrations", import.meta.url));
const migrateCli = fileURLToPath(new URL("../../../db/src/migrate-cli.ts", import.meta.url));

// The template is migrated by the same command operators run (`pnpm db:migrate`), in its own
// process: that tests the command, and keeps testkit from importing db (db's tests import testkit).
async function runMigrateCommand(url: string): Promise<void> {
  await promisify(execFile)(process.execPath, ["--import", "tsx", migrateCli], {
    env: { ...process.env, DATABASE_URL: url },
  });
}

export async function setup(project: TestProject): Promise<void> {
  const adminUrl = process.env.KEYTURN_TEST_PG_URL ?? DEFAULT_ADMIN_URL;
  const template = `${TEMPLATE_PREFIX}${await hashDirectory(migrationsDir)}`;
  await withAdmin(adminUrl, async (admin) => {
    // Serializes concurrent runs (two terminals, CI shards on one server) that need the template.
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [template]);
    try {
      await dropStaleDatabases(admin, template);
      if (!(await databaseExists(admin, template))) {
        await buildTemplate(admin, adminUrl, template);
      }
      await markUsed(admin, template);
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [template]);
    }
  }).catch((error: unknown) => {
    throw new Error(
      `Test database setup failed against ${redact(adminUrl)} (set KEYTURN_TEST_PG_URL to a superuser URL ` +
        "of a running PostgreSQL).",
      { cause: error },
    );
  });
  project.provide("templateDatabase", template);
  project.provide("testDatabaseAdminUrl", adminUrl);
}

// Migrates a scratch database and only then renames it to the template's name, so a template that
// exists is always complete; a run that dies half-way leaves a keyturn_test_* database behind,
// which a later run drops as stale.
async function buildTemplate(admin: pg.Client, adminUrl: string, template: string): Promise<void> {
  const scratch = newTestDatabaseName();
  await admin.query(`CREATE DATABASE ${quoteIdentifier(scratch)} TEMPLATE template0`);
  await runMigrateCommand(databaseUrl(adminUrl, scratch));
  await retryWhileInUse(() =>
    admin.query(`ALTER DATABASE ${quoteIdentifier(scratch)} RENAME TO ${quoteIdentifier(template)}`),
  );
  // Nobody connects to the template, so cloning it never finds it "being accessed by other users".
  await admin.query(`ALTER DATABASE ${quoteIdentifier(template)} WITH ALLOW_CONNECTIONS false`);
}

// Templates of other migration sets belong to other branches or worktrees, maybe to a run going
// on right now, so they are only dropped once no run has used them for a while.
async function dropStaleDatabases(admin: pg.Client, currentTemplate: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database
     WHERE starts_with(datname, $1) OR starts_with(datname, $2)`,
    [TEST_DATABASE_PREFIX, TEMPLATE_PREFIX],
  );
  const now = Date.now();
  for (const { datname: name, comment } of rows) {
    const since = name.startsWith(TEMPLATE_PREFIX) ? lastUsedAt(comment) : createdAtOf(name);
    if (name === currentTemplate || since === undefined || now - since < STALE_AFTER_MS) {
      continue;
    }
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    } catch (error) {
      // Being cloned right now by a run that is not so stale after all.
      if (pgCode(error) !== OBJECT_IN_USE) {
        throw error;
      }
    }
  }
}

async function markUsed(admin: pg.Client, template: string): Promise<void> {
  await admin.query(`COMMENT ON DATABASE ${quoteIdentifier(template)} IS '${LAST_USED}${Date.now()}'`);
}

function lastUsedAt(comment: string | null): number | undefined {
  const time = comment?.startsWith(LAST_USED) ? Number(comment.slice(LAST_USED.length)) : Number.NaN;
  return Number.isFinite(time) ? time : undefined;
}

async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  return rowCount === 1;
}

// Any change to the migrations (a new one, or an edit) yields a new template.
async function hashDirectory(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const paths = (await readdir(dir, { recursive: true })).sort();
  for (const path of paths) {
    const file = join(dir, path);
    if ((await stat(file)).isFile()) {
      hash
        .update(path)
        .update("\0")
        .update(await readFile(file))
        .update("\0");
    }
  }
  return hash.digest("hex").slice(0, 8);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) {
    parsed.password = "***";
  }
  return parsed.toString();
}
