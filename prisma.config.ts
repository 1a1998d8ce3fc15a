// Prisma CLI configuration. Prisma's native engines cannot be downloaded on our build machines, so
// the CLI runs on its JS/Wasm engines through the pg driver adapter: that is all `prisma generate`
// and `prisma migrate diff` need. Migrations are applied by our own command (packages/db/src/migrate.ts).
// The prisma packages are dependencies of packages/db, not of the repository root, so they are
// resolved from there; the type import is erased when the CLI loads this file.
import { createRequire } from "node:module";
import type { PrismaConfig } from "prisma";

const fromDb = createRequire(new URL("./packages/db/package.json", import.meta.url));
// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by the Prisma CLI, which no turbo task runs.
const databaseUrl = process.env.DATABASE_URL;

// The CLI resolves the schema's env("DATABASE_URL") at start-up, even for `prisma generate`, which
// never connects; when that fails it falls back to downloading a native query engine, which these
// machines cannot do. So an unset variable gets a placeholder, and the adapter refuses it.
process.env.DATABASE_URL ??= "postgresql://DATABASE_URL-is-not-set.invalid/unused";

export default {
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  experimental: { adapter: true },
  engine: "js",
  // The Wasm schema engine connects even to diff two schema files (`prisma migrate diff`), so
  // those commands need DATABASE_URL too: any reachable PostgreSQL will do, nothing is written.
  async adapter() {
    if (!databaseUrl) {
      throw new Error(
        "DATABASE_URL is not set; this command connects to PostgreSQL, e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres",
      );
    }
    const { PrismaPg } = (await import(
      fromDb.resolve("@prisma/adapter-pg")
    )) as typeof import("@prisma/adapter-pg");
    // The CLI never closes the pool; without this it lingers for pg's 10 s idle timeout.
    return new PrismaPg({ connectionString: databaseUrl, allowExitOnIdle: true });
  },
} satisfies PrismaConfig;
