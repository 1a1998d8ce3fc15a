// `pnpm --filter @keyturn/api run bucket-policy -- <command> ...`
//   diff <bucket> [--drop-foreign]            the live policy against the generated one
//   apply <bucket> [--yes] [--drop-foreign]   PutBucketPolicy after showing the diff
//   generate <bucket> [--pretty]              the generated policy JSON, from the stored spec
//   generate --spec <file.json> [--pretty]    the same from a spec file, without a database
// Reads DATABASE_URL, AWS_REGION (and the SDK's AWS_ENDPOINT_URL_S3, credentials chain) and
// AWS_S3_FORCE_PATH_STYLE. The diff goes to stdout; generate prints only the JSON, so
// `> policy.json` captures it. A composition root: it may read the environment.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { createBucketPolicyStore } from "@keyturn/aws";
import { generateBucketPolicy, parseBucketSpec, renderPolicyDiff } from "@keyturn/bucket-policy";
import { DatabaseFragment, parseEnv } from "@keyturn/config";
import {
  createBucketPolicyUnitOfWork,
  createPrismaClient,
  findProtectedBucket,
  type PrismaClient,
} from "@keyturn/db";
import {
  AppError,
  applyBucketPolicy,
  type BucketPolicyError,
  type BucketPolicyS3Deps,
  previewBucketPolicy,
} from "@keyturn/usecases";
import { loadBucketPolicyS3Config } from "../bucket-policy-env.js";

const USAGE = `usage: bucket-policy -- diff <bucket> [--drop-foreign]
       bucket-policy -- apply <bucket> [--yes] [--drop-foreign]
       bucket-policy -- generate <bucket> [--pretty]
       bucket-policy -- generate --spec <file.json> [--pretty]`;

function fail(message: string, code = 2): never {
  console.error(`bucket-policy: ${message}\n${USAGE}`);
  process.exit(code);
}

// pnpm passes a literal "--" through to the script; parseArgs would treat the rest as positionals.
const argv = process.argv.slice(2).filter((arg, i, all) => !(arg === "--" && all.indexOf("--") === i));
let parsed: ReturnType<typeof parse>;
function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      yes: { type: "boolean", short: "y" },
      "drop-foreign": { type: "boolean" },
      spec: { type: "string" },
      pretty: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}
try {
  parsed = parse(argv);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help === true) {
  console.error(USAGE);
  process.exit(0);
}
const [command, bucket, ...extra] = positionals;
if (extra.length > 0) {
  fail(`unexpected arguments: ${extra.join(" ")}`);
}
const dropForeign = values["drop-foreign"] === true;
const actor = { type: "system", id: "cli", label: `bucket-policy CLI (${userInfo().username})` } as const;

function describeError(error: BucketPolicyError): string {
  const problems = error.details?.problems;
  const lines = Array.isArray(problems)
    ? problems.map((p: { path?: string; message?: string }) => `\n  - ${p.path ?? ""}: ${p.message ?? ""}`)
    : [];
  return `${error.code}: ${error.message}${lines.join("")}`;
}

function printPolicy(policy: { json: string; policy: unknown }): void {
  process.stdout.write(`${values.pretty === true ? JSON.stringify(policy.policy, null, 2) : policy.json}\n`);
}

async function generateFromFile(file: string): Promise<number> {
  let spec: unknown;
  try {
    spec = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
  const checked = parseBucketSpec(bucket === undefined ? spec : { ...(spec as object), bucket });
  if (!checked.ok) {
    console.error(
      `bucket-policy: ${describeError({ code: "INVALID_BUCKET_SPEC", message: checked.error.message, details: { problems: checked.error.problems } })}`,
    );
    return 1;
  }
  const generated = generateBucketPolicy(checked.spec);
  if (!generated.ok) {
    console.error(`bucket-policy: ${generated.error.code}: ${generated.error.message}`);
    return 1;
  }
  printPolicy(generated.value);
  return 0;
}

async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) {
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function run(prisma: PrismaClient, name: string): Promise<number> {
  const clock = { now: () => new Date() };
  const base = {
    uow: createBucketPolicyUnitOfWork(prisma, { clock, ids: { uuid: () => randomUUID() } }),
    clock,
  };
  if (command === "generate") {
    const record = await findProtectedBucket(prisma, name);
    if (record === null) {
      console.error(
        `bucket-policy: bucket '${name}' is not protected by Keyturn (PUT /v1/buckets/${name} first)`,
      );
      return 1;
    }
    const spec = parseBucketSpec(record.spec);
    const generated = spec.ok ? generateBucketPolicy(spec.spec) : spec;
    if (!generated.ok) {
      console.error(`bucket-policy: ${generated.error.code}: ${generated.error.message}`);
      return 1;
    }
    printPolicy(generated.value);
    return 0;
  }
  const env = loadBucketPolicyS3Config(process.env);
  if (!env.ok || env.config === null) {
    const problems = env.ok ? ["AWS_REGION: is required to reach S3"] : env.problems;
    console.error(`bucket-policy: invalid configuration\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  const store = createBucketPolicyStore({
    region: env.config.region,
    forcePathStyle: env.config.forcePathStyle,
    retry: { maxAttempts: 3 },
  });
  const deps: BucketPolicyS3Deps = { ...base, store };
  try {
    const preview = await previewBucketPolicy(deps, { name, dropForeign });
    if (!preview.ok) {
      console.error(`bucket-policy: ${describeError(preview.error)}`);
      return 1;
    }
    const { bucket, plan, drift, sessionCutoffs } = preview.value;
    process.stdout.write(
      renderPolicyDiff(
        {
          bucket,
          changesLive: plan.changesLive,
          toApply: { bytes: plan.merged.bytes },
          diff: plan.diff,
          drift: { ...drift, lastAppliedAt: drift.lastAppliedAt?.toISOString() ?? null },
          sessionCutoffs,
        },
        { dropForeign },
      ),
    );
    if (command === "diff") {
      return 0;
    }
    if (
      !preview.value.plan.changesLive &&
      preview.value.drift.expectedHash !== null &&
      !preview.value.drift.detected
    ) {
      console.error("nothing to apply.");
      return 0;
    }
    if (values.yes !== true && !(await confirm(`apply this policy to ${name}? [y/N] `))) {
      console.error("not applied (pass --yes to apply without a prompt).");
      return process.stdin.isTTY === true ? 0 : 2;
    }
    const applied = await applyBucketPolicy(deps, { name, dropForeign, by: actor, reason: "cli" });
    if (!applied.ok) {
      console.error(`bucket-policy: ${describeError(applied.error)}`);
      return 1;
    }
    const { put, hash, bytes } = applied.value;
    console.error(
      put
        ? `applied: ${bytes} bytes, hash ${hash}`
        : `the live policy already matched; recorded hash ${hash}`,
    );
    return 0;
  } finally {
    store.close();
  }
}

async function main(): Promise<number> {
  if (command === "generate" && values.spec !== undefined) {
    return generateFromFile(values.spec);
  }
  if (command !== "diff" && command !== "apply" && command !== "generate") {
    fail(command === undefined ? "a command is required" : `unknown command '${command}'`);
  }
  if (bucket === undefined) {
    fail("a bucket name is required");
  }
  const env = parseEnv(DatabaseFragment, process.env, (e) => e.DATABASE_URL);
  if (!env.ok) {
    console.error(`bucket-policy: invalid configuration\n${env.problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  const prisma = createPrismaClient({ databaseUrl: env.config });
  try {
    return await run(prisma, bucket);
  } finally {
    await prisma.$disconnect();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  const detail =
    error instanceof AppError
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  console.error(`bucket-policy failed: ${detail}`);
  process.exitCode = 1;
}
