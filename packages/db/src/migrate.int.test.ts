import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@keyturn/testkit/database";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { MigrateError, migrate } from "./migrate.js";

const migrationsDir = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));

type MigrationRow = {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
};

async function query<Row extends pg.QueryResultRow>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

const migrationRows = (url: string) =>
  query<MigrationRow>(url, "SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name");

async function localMigrations(dir: string): Promise<{ name: string; checksum: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  return Promise.all(
    names.sort().map(async (name) => ({
      name,
      checksum: createHash("sha256")
        .update(await readFile(join(dir, name, "migration.sql")))
        .digest("hex"),
    })),
  );
}

async function freshDatabase(onTestFinished: (fn: () => Promise<void>) => void) {
  const database = await createTestDatabase({ empty: true });
  onTestFinished(() => database.drop());
  return database;
}

async function rejection(promise: Promise<unknown>): Promise<MigrateError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MigrateError);
  return error as MigrateError;
}

describe("migrate", () => {
  test("applies every migration and records it exactly as prisma migrate deploy does", async ({
    onTestFinished,
  }) => {
    const database = await freshDatabase(onTestFinished);
    const local = await localMigrations(migrationsDir);
    expect(local.length).toBeGreaterThan(0);

    const result = await migrate({ databaseUrl: database.url, migrationsDir });

    expect(result).toEqual({ applied: local.map((m) => m.name), skipped: [] });
    const rows = await migrationRows(database.url);
    expect(rows.map((row) => [row.migration_name, row.checksum])).toEqual(
      local.map((m) => [m.name, m.checksum]),
    );
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at?.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
    const columns = await query<{ column_name: string; type: string; nullable: string; def: string | null }>(
      database.url,
      `SELECT column_name, format_type(atttypid, atttypmod) AS type, is_nullable AS nullable, column_default AS def
       FROM information_schema.columns c
       JOIN pg_attribute a ON a.attrelid = '_prisma_migrations'::regclass AND a.attname = c.column_name
       WHERE c.table_name = '_prisma_migrations' ORDER BY c.ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", type: "character varying(36)", nullable: "NO", def: null },
      { column_name: "checksum", type: "character varying(64)", nullable: "NO", def: null },
      { column_name: "finished_at", type: "timestamp with time zone", nullable: "YES", def: null },
      { column_name: "migration_name", type: "character varying(255)", nullable: "NO", def: null },
      { column_name: "logs", type: "text", nullable: "YES", def: null },
      { column_name: "rolled_back_at", type: "timestamp with time zone", nullable: "YES", def: null },
      { column_name: "started_at", type: "timestamp with time zone", nullable: "NO", def: "now()" },
      { column_name: "applied_steps_count", type: "integer", nullable: "NO", def: "0" },
    ]);
    const tables = await query<{ tablename: string }>(
      database.url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.map((t) => t.tablename)).toEqual(expect.arrayContaining(["AccessRequest", "AuditEvent"]));
  });

  test("a second run applies nothing", async ({ onTestFinished }) => {
    const database = await freshDatabase(onTestFinished);
    const first = await migrate({ databaseUrl: database.url, migrationsDir });
    const before = await migrationRows(database.url);

    const second = await migrate({ databaseUrl: database.url, migrationsDir });

    expect(second).toEqual({ applied: [], skipped: first.applied });
    expect(await migrationRows(database.url)).toEqual(before);
  });

  test("refuses to run when an applied migration's file has changed", async ({ onTestFinished }) => {
    const database = await freshDatabase(onTestFinished);
    const { applied } = await migrate({ databaseUrl: database.url, migrationsDir });
    const tampered = applied[0];
    await query(database.url, `UPDATE _prisma_migrations SET checksum = repeat('0', 64)`);

    const error = await rejection(migrate({ databaseUrl: database.url, migrationsDir }));

    expect(error.code).toBe("CHECKSUM_MISMATCH");
    expect(error.migrationName).toBe(tampered);
    expect(error.message).toContain(`Migration ${tampered} was modified after it was applied`);
  });

  test("records a failed migration, rolls its SQL back, and refuses further runs until resolved", async ({
    onTestFinished,
  }) => {
    const database = await freshDatabase(onTestFinished);
    const dir = await mkdtemp(join(tmpdir(), "keyturn-migrations-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await cp(migrationsDir, dir, { recursive: true });
    const broken = "29991231235959_broken";
    await mkdir(join(dir, broken));
    await writeFile(
      join(dir, broken, "migration.sql"),
      'CREATE TABLE "Half" ("id" INTEGER);\nSELECT * FROM "DoesNotExist";\n',
    );

    const error = await rejection(migrate({ databaseUrl: database.url, migrationsDir: dir }));

    expect(error.code).toBe("MIGRATION_FAILED");
    expect(error.migrationName).toBe(broken);
    expect(error.message).toContain('relation "DoesNotExist" does not exist');
    const failed = (await migrationRows(database.url)).find((row) => row.migration_name === broken);
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(failed?.logs).toContain('relation "DoesNotExist" does not exist');
    expect(await query(database.url, "SELECT to_regclass('\"Half\"') AS t")).toEqual([{ t: null }]);

    const again = await rejection(migrate({ databaseUrl: database.url, migrationsDir: dir }));
    expect(again.code).toBe("PREVIOUS_MIGRATION_FAILED");
    expect(again.migrationName).toBe(broken);
    expect(again.message).toContain(broken);

    // What `prisma migrate resolve --rolled-back` does; the fixed migration then applies again.
    await query(
      database.url,
      `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${broken}'`,
    );
    await writeFile(join(dir, broken, "migration.sql"), 'CREATE TABLE "Half" ("id" INTEGER);\n');
    const resolved = await migrate({ databaseUrl: database.url, migrationsDir: dir });
    expect(resolved.applied).toEqual([broken]);
  });

  test("two concurrent runs on a database that does not exist yet apply each migration once", async ({
    onTestFinished,
  }) => {
    const database = await freshDatabase(onTestFinished);
    await database.drop();
    const local = await localMigrations(migrationsDir);

    const results = await Promise.all([
      migrate({ databaseUrl: database.url, migrationsDir }),
      migrate({ databaseUrl: database.url, migrationsDir }),
    ]);

    expect(results.flatMap((r) => r.applied).sort()).toEqual(local.map((m) => m.name));
    expect(results.flatMap((r) => r.skipped).sort()).toEqual(local.map((m) => m.name));
    const rows = await migrationRows(database.url);
    expect(rows.map((row) => row.migration_name)).toEqual(local.map((m) => m.name));
  });

  test("test databases are clones of the int project's migrated template", async ({ onTestFinished }) => {
    const database = await createTestDatabase();
    onTestFinished(() => database.drop());
    const local = await localMigrations(migrationsDir);

    const result = await migrate({ databaseUrl: database.url, migrationsDir });

    expect(result).toEqual({ applied: [], skipped: local.map((m) => m.name) });
  });
});
