// Applies prisma/migrations the way `prisma migrate deploy` does, because Prisma's native schema
// engine cannot be downloaded on our machines and its Wasm engine cannot apply migrations on
// PostgreSQL through a driver adapter (prisma/orm#27403). The bookkeeping in _prisma_migrations is
// Prisma's own, so `prisma migrate status` / `deploy` agree with it wherever the engine exists.
//
// Authoring the next migration (from the repository root; the Wasm engine connects to a database
// even to diff two files, any reachable one will do and nothing is written):
//   1. edit prisma/schema.prisma
//   2. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres pnpm --filter @keyturn/db run migration:diff
//      prints the SQL from the schema at git HEAD to the working copy, i.e.
//      git show HEAD:prisma/schema.prisma > .tmp/schema-head.prisma &&
//      prisma migrate diff --from-schema-datamodel .tmp/schema-head.prisma --to-schema-datamodel prisma/schema.prisma --script
//   3. save it as prisma/migrations/<UTC YYYYMMDDHHMMSS>_<snake_name>/migration.sql and review it
//   4. never edit a migration once it has been applied anywhere: its checksum is recorded.
// packages/db/src/schema.int.test.ts fails while the migrations and the schema disagree.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";

export type MigrateLogger = {
  info(message: string): void;
  warn(message: string): void;
};

export type MigrateOptions = {
  databaseUrl: string;
  migrationsDir: string;
  logger?: MigrateLogger;
};

export type MigrateResult = { applied: string[]; skipped: string[] };

export type MigrateErrorCode = "CHECKSUM_MISMATCH" | "PREVIOUS_MIGRATION_FAILED" | "MIGRATION_FAILED";

export class MigrateError extends Error {
  override readonly name = "MigrateError";
  readonly code: MigrateErrorCode;
  /** The migration (folder name) that the error is about. */
  readonly migrationName: string;
  constructor(code: MigrateErrorCode, migrationName: string, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.code = code;
    this.migrationName = migrationName;
  }
}

// The key `prisma migrate deploy` locks, so our runs and Prisma's exclude each other too.
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Byte for byte the DDL of Prisma's schema engine (PostgreSQL flavour).
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

type LocalMigration = { name: string; script: string; checksum: string };

type AppliedRow = {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
};

const silent: MigrateLogger = { info() {}, warn() {} };

export async function migrate({
  databaseUrl,
  migrationsDir,
  logger = silent,
}: MigrateOptions): Promise<MigrateResult> {
  const migrations = await readMigrations(migrationsDir);
  const client = await connectCreatingDatabase(databaseUrl, logger);
  try {
    // Session-level lock held for the whole run: a second process waits here, then finds
    // everything applied.
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      return await applyPending(client, migrations, logger);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: pg.Client,
  migrations: LocalMigration[],
  logger: MigrateLogger,
): Promise<MigrateResult> {
  const table = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists",
  );
  if (!table.rows[0]?.exists) {
    await client.query(CREATE_MIGRATIONS_TABLE);
  }
  const { rows } = await client.query<AppliedRow>(
    "SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at ASC",
  );
  // A failed migration blocks everything until someone resolves it (Prisma's P3009).
  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw new MigrateError(
      "PREVIOUS_MIGRATION_FAILED",
      failed.migration_name,
      `Migration ${failed.migration_name} failed in an earlier run and is not resolved; fix the database, then ` +
        `mark it with \`prisma migrate resolve --applied|--rolled-back ${failed.migration_name}\` ` +
        "(or set finished_at or rolled_back_at on its _prisma_migrations row).",
    );
  }
  // Rows with rolled_back_at set do not count: such a migration is applied again.
  const applied = new Map(
    rows.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row.checksum]),
  );
  const local = new Set(migrations.map((migration) => migration.name));
  for (const name of applied.keys()) {
    if (!local.has(name)) {
      logger.warn(`Migration ${name} is recorded in the database but missing from the migrations directory.`);
    }
  }

  const result: MigrateResult = { applied: [], skipped: [] };
  for (const migration of migrations) {
    const checksum = applied.get(migration.name);
    if (checksum === undefined) {
      await applyOne(client, migration, logger);
      result.applied.push(migration.name);
    } else if (checksum === migration.checksum) {
      result.skipped.push(migration.name);
    } else {
      throw new MigrateError(
        "CHECKSUM_MISMATCH",
        migration.name,
        `Migration ${migration.name} was modified after it was applied (checksum ${checksum} in the database, ` +
          `${migration.checksum} on disk). Restore the file; changes belong in a new migration.`,
      );
    }
  }
  if (result.applied.length === 0) {
    logger.info("No pending migrations to apply.");
  }
  return result;
}

// Same rows as Prisma: a started row with applied_steps_count 0 is written first and committed,
// so that a failure leaves it behind (finished_at NULL, logs set) and blocks later runs.
async function applyOne(client: pg.Client, migration: LocalMigration, logger: MigrateLogger): Promise<void> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO _prisma_migrations (id, checksum, started_at, finished_at, migration_name, logs, rolled_back_at, applied_steps_count)
     VALUES ($1, $2, now(), NULL, $3, NULL, NULL, 0)`,
    [id, migration.checksum, migration.name],
  );
  logger.info(`Applying migration ${migration.name}`);
  try {
    await client.query("BEGIN");
    // No parameters: the simple query protocol runs a multi-statement script.
    await client.query(migration.script);
    await client.query(
      "UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = now() WHERE id = $1",
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    await client.query("UPDATE _prisma_migrations SET logs = $1 WHERE id = $2", [describeFailure(error), id]);
    throw new MigrateError(
      "MIGRATION_FAILED",
      migration.name,
      `Migration ${migration.name} failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(migrationsDir, name, "migration.sql"));
      // Prisma's checksum: sha256 of the file's bytes, lowercase hex.
      const checksum = createHash("sha256").update(bytes).digest("hex");
      return { name, script: bytes.toString("utf8"), checksum };
    }),
  );
}

const INVALID_CATALOG_NAME = "3D000";
const DUPLICATE_DATABASE = "42P04";
const UNIQUE_VIOLATION = "23505";

async function connectCreatingDatabase(databaseUrl: string, logger: MigrateLogger): Promise<pg.Client> {
  try {
    return await connect(databaseUrl);
  } catch (error) {
    if (pgCode(error) !== INVALID_CATALOG_NAME) {
      throw error;
    }
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const admin = await connect(url.toString());
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    logger.info(`Created database ${name}`);
  } catch (error) {
    // Another process created it first.
    const code = pgCode(error);
    if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) {
      throw error;
    }
  } finally {
    await admin.end();
  }
  return connect(databaseUrl);
}

async function connect(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  return client;
}

function pgCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

// What Prisma stores in `logs` for a failed step.
function describeFailure(error: unknown): string {
  const code = pgCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `Database error code: ${code}\n\nDatabase error:\n${message}`;
}

function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
