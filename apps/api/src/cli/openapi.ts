// `pnpm --filter @keyturn/api --silent run openapi > file.json`
// Prints the API's OpenAPI document, from the app itself built without listening (no database
// connection is opened: the document depends only on the routes and their schemas). The CLI's
// checked-in apps/cli/openapi.json is written with it; a CLI test fails when the two differ.
import { createPrismaClient } from "@keyturn/db";
import { createLogger } from "@keyturn/observability";
import { buildApp } from "../app.js";

const prisma = createPrismaClient({ databaseUrl: "postgresql://openapi@127.0.0.1:1/unused" });
const app = await buildApp({
  prisma,
  logger: createLogger({ name: "keyturn-openapi", level: "silent" }),
  clock: { now: () => new Date(0) },
  ids: { uuid: () => "00000000-0000-4000-8000-000000000000" },
  config: {
    host: "127.0.0.1",
    port: 0,
    bodyLimitBytes: 64 * 1024,
    rateLimitPerMinute: 1,
    rateLimitPerAddressPerMinute: 1,
    trustedProxies: [],
  },
});
await app.ready();
process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
await prisma.$disconnect();
