// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (created if missing).
import { fileURLToPath } from "node:url";
import { MigrateError, migrate } from "./migrate.js";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    "DATABASE_URL is not set. Example: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/keyturn pnpm db:migrate",
  );
  process.exit(1);
}

const migrationsDir = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));
const logger = {
  info: (message: string) => console.log(message),
  warn: (message: string) => console.warn(message),
};

try {
  const { applied, skipped } = await migrate({ databaseUrl, migrationsDir, logger });
  console.log(`${applied.length} migration(s) applied, ${skipped.length} already applied.`);
} catch (error) {
  if (error instanceof MigrateError) {
    console.error(`${error.code}: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
}
