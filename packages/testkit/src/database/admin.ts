import pg from "pg";

// Test databases carry their creation time in their name, so a later run can drop the ones a
// crashed or interrupted run left behind.
export const TEST_DATABASE_PREFIX = "keyturn_test_";

export function newTestDatabaseName(now = Date.now()): string {
  const random = Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, "0");
  return `${TEST_DATABASE_PREFIX}${Math.floor(now / 1000).toString(36)}_${random}`;
}

export function createdAtOf(name: string): number | undefined {
  const stamp = name.slice(TEST_DATABASE_PREFIX.length).split("_")[0];
  const seconds = stamp === undefined ? Number.NaN : Number.parseInt(stamp, 36);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

export async function withAdmin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export const OBJECT_IN_USE = "55006";

// CREATE/ALTER/DROP DATABASE fail with "being accessed by other users" while a connection to the
// source lingers, for instance one that was closed a moment ago and whose backend is still exiting.
export async function retryWhileInUse(run: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      await run();
      return;
    } catch (error) {
      if (pgCode(error) !== OBJECT_IN_USE || Date.now() > deadline) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export function pgCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}
