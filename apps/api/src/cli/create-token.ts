// `pnpm --filter @keyturn/api run token:create -- --owner admin@example.com [--name admin]
//   [--scopes all|requests:read,...] [--service] [--if-none]`
// Mints an API token straight in the database, for the first admin (before any token exists to
// call POST /v1/tokens with). The token goes to stdout alone, so `$(...)` captures it; everything
// else goes to stderr. A composition root: it may read the environment.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { DatabaseFragment, parseEnv } from "@keyturn/config";
import { createPrismaClient, createUnitOfWork, listTokens } from "@keyturn/db";
import { API_SCOPES, type ApiScope, createApiToken } from "@keyturn/usecases";
import { z } from "zod";
import { ServiceNameSchema } from "../schemas/api-token.js";

const USAGE =
  "usage: token:create -- --owner <email|service-name> [--name <name>] [--scopes all|<scope,...>] [--service] [--if-none]\n" +
  `  scopes: ${API_SCOPES.join(", ")}\n` +
  "  --if-none: do nothing when an active token with this owner and name already exists";

function fail(message: string): never {
  console.error(`token:create: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseScopes(raw: string): ApiScope[] {
  if (raw === "all") {
    return [...API_SCOPES];
  }
  const scopes = raw.split(",").map((s) => s.trim());
  const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) {
    fail(`unknown scope(s): ${unknown.join(", ") || "(none given)"}`);
  }
  return scopes as ApiScope[];
}

// pnpm passes a literal "--" through to the script; parseArgs would treat the rest as positionals.
const argv = process.argv.slice(2).filter((arg, i, all) => !(arg === "--" && all.indexOf("--") === i));
let values: {
  owner?: string;
  name?: string;
  scopes?: string;
  service?: boolean;
  "if-none"?: boolean;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    args: argv,
    options: {
      owner: { type: "string" },
      name: { type: "string" },
      scopes: { type: "string" },
      service: { type: "boolean" },
      "if-none": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help === true) {
  console.error(USAGE);
  process.exit(0);
}

const ownerKind = values.service === true ? "service" : "person";
const owner = values.owner ?? fail("--owner is required");
const ownerCheck = ownerKind === "person" ? z.email().safeParse(owner) : ServiceNameSchema.safeParse(owner);
if (!ownerCheck.success) {
  fail(
    ownerKind === "person"
      ? `--owner must be an email address, got '${owner}'`
      : `--owner: ${ownerCheck.error.issues[0]?.message}`,
  );
}
const name = (values.name ?? "admin").trim();
if (name === "" || name.length > 100) {
  fail("--name must be 1-100 characters");
}
const scopes = parseScopes(values.scopes ?? "all");

const env = parseEnv(DatabaseFragment, process.env, (e) => e.DATABASE_URL);
if (!env.ok) {
  console.error(`token:create: invalid configuration\n${env.problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}

const prisma = createPrismaClient({ databaseUrl: env.config });
const clock = { now: () => new Date() };
const ids = { uuid: () => randomUUID() };

async function activeTokenNamed(tokenOwner: string, tokenName: string) {
  const now = clock.now();
  return (await listTokens(prisma)).find(
    (t) =>
      t.owner === tokenOwner &&
      t.name === tokenName &&
      t.revokedAt === null &&
      (t.expiresAt === null || t.expiresAt > now),
  );
}

async function run(): Promise<number> {
  const normalizedOwner = ownerKind === "person" ? owner.toLowerCase() : owner;
  const existing = values["if-none"] === true ? await activeTokenNamed(normalizedOwner, name) : undefined;
  if (existing !== undefined) {
    console.error(
      `token:create: an active token '${name}' for ${normalizedOwner} exists (${existing.prefix}…); not creating another`,
    );
    return 0;
  }
  const result = await createApiToken(
    { uow: createUnitOfWork(prisma, { clock, ids }), clock, ids },
    { name, ownerKind, owner, scopes, by: { type: "system", id: "cli" } },
  );
  if (!result.ok) {
    console.error(`token:create: ${result.error.code}: ${result.error.message}`);
    return 1;
  }
  const { record, token } = result.value;
  process.stdout.write(`${token}\n`);
  console.error(
    `created token '${record.name}' (${record.prefix}…) for ${record.ownerKind} ${record.owner}\n` +
      `  id: ${record.id}\n  scopes: ${record.scopes.join(", ")}\n` +
      "  The token above is shown once; Keyturn keeps only its hash.",
  );
  return 0;
}

try {
  process.exitCode = await run();
} catch (error) {
  console.error("token:create failed:", error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
}
