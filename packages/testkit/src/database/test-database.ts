import { afterAll, beforeAll, inject } from "vitest";
import { databaseUrl, newTestDatabaseName, quoteIdentifier, retryWhileInUse, withAdmin } from "./admin.js";
import type {} from "./provided-context.js";

export type TestDatabase = {
  name: string;
  url: string;
  /** Drops the database, closing any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
};

export type CreateTestDatabaseOptions = {
  /** An empty database (no migrations applied) instead of a clone of the migrated template. */
  empty?: boolean;
};

/**
 * A fresh database of its own for a test file or a test: a clone of the migrated template made by
 * the int project's global setup (packages/testkit/src/database/global-setup.ts).
 */
export async function createTestDatabase({
  empty = false,
}: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = inject("testDatabaseAdminUrl");
  if (adminUrl === undefined) {
    throw new Error(
      "createTestDatabase() needs the global setup of the vitest int project: name the file *.int.test.ts",
    );
  }
  const template = empty ? "template0" : inject("templateDatabase");
  const name = newTestDatabaseName();
  await withAdmin(adminUrl, (admin) =>
    retryWhileInUse(() =>
      admin.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`),
    ),
  );
  return {
    name,
    url: databaseUrl(adminUrl, name),
    drop: () =>
      withAdmin(adminUrl, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      }),
  };
}

/**
 * One database for the whole test file: created in beforeAll, dropped in afterAll. Read `.url`
 * inside tests and hooks, not at module level, where it does not exist yet.
 */
export function useTestDatabase(options: CreateTestDatabaseOptions = {}): Omit<TestDatabase, "drop"> {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(options);
  });
  afterAll(async () => {
    await database?.drop();
  });
  const current = (): TestDatabase => {
    if (!database) {
      throw new Error("useTestDatabase(): the database exists only once beforeAll has run");
    }
    return database;
  };
  return {
    get name() {
      return current().name;
    },
    get url() {
      return current().url;
    },
  };
}
