// `keyturn credentials <flow>` as an AWS profile's credential_process runs it: a new process for
// every new AWS CLI or SDK process. Cold: nothing cached, so the CLI asks the API for the active
// grant and the SSO portal (GetRoleCredentials) for role credentials, then caches them. Cached:
// the private 0600 cache answers without the network. Both are timed as the SDK sees them, from
// spawning the BUILT CLI (apps/cli/dist/keyturn.mjs) to its exit; `node -e 0` is the floor any
// Node program pays on this machine.
//
//   pnpm exec tsx bench/credential-process/run.ts [--cold 15] [--cached 40]
//
// The API runs as deployed (a process of its own, on a scratch database); the AWS emulator serves
// the SSO portal in this process. The grant is made through the use cases (as an approval and the
// reconciler would leave it), and the person's Identity Center sign-in is in the AWS CLI's SSO
// token cache, as after `aws sso login`.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { createPrismaClient, createUnitOfWork, type PrismaClient } from "../../packages/db/src/index.js";
import { standardSeed } from "../../packages/testkit/src/aws-emulator/test-helpers.js";
import { testFlowRules } from "../../packages/testkit/src/flow-rules.js";
import { startAwsEmulator } from "../../packages/testkit/src/index.js";
import { type Deps, putFlow } from "../../packages/usecases/src/index.js";
import { mintToken, startApiProcess } from "../support/api.js";
import { grantActiveLeases } from "../support/grants.js";
import { type BenchRow, ms, printBenchResult, quantile } from "../support/report.js";
import { cleanUp, createScratchDatabase, onCleanUp } from "../support/scratch.js";

const TARGET_CACHED_MS = 150;
const FLOW = "bench-data";
const START_URL = "https://d-0123456789.awsapps.com/start";
const CLI_ROOT = fileURLToPath(new URL("../../apps/cli/", import.meta.url));
const BUNDLE = join(CLI_ROOT, "dist", "keyturn.mjs");

const { values } = parseArgs({
  options: { cold: { type: "string", default: "15" }, cached: { type: "string", default: "40" } },
});
const coldRuns = Number(values.cold);
const cachedRuns = Number(values.cached);
if (!(coldRuns > 0) || !(cachedRuns > 0)) {
  console.error("--cold > 0 and --cached > 0 are required");
  process.exit(2);
}

/** Wall time of one child process, spawn to exit; fails on a non-zero exit. */
function timed(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const elapsed = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`${args.join(" ")} exited ${code}: ${stderr}`));
      } else {
        resolve({ ms: elapsed, stdout });
      }
    });
  });
}

type Figures = { p50: number; p95: number; max: number };
const figures = (samples: readonly number[]): Figures => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.at(-1) ?? Number.NaN };
};
const line = (label: string, n: number, f: Figures) =>
  `${label.padEnd(34)} n=${String(n).padStart(3)}  p50 ${ms(f.p50).padStart(9)}  p95 ${ms(f.p95).padStart(9)}  max ${ms(f.max).padStart(9)}`;

async function main(): Promise<BenchRow[]> {
  await promisify(execFile)(process.execPath, [join(CLI_ROOT, "scripts", "build.mjs")]);

  const database = await createScratchDatabase();
  const db: PrismaClient = createPrismaClient({ databaseUrl: database.url, maxConnections: 4 });
  onCleanUp("database client", () => db.$disconnect());
  const api = await startApiProcess(database.url);
  onCleanUp("api", () => api.stop());
  const emulator = await startAwsEmulator({ seed: 15, assignmentDelayMs: 0 });
  onCleanUp("emulator", () => emulator.close());
  const seeded = emulator.seed(standardSeed());

  const clock = { now: () => new Date() };
  const ids = { uuid: () => crypto.randomUUID() };
  const deps: Deps = { uow: createUnitOfWork(db, { clock, ids }), clock, ids };
  const system = { type: "system", id: "bench" } as const;
  if (!(await putFlow(deps, { name: FLOW, by: system, rules: testFlowRules() })).ok) {
    throw new Error("could not write the flow");
  }
  await grantActiveLeases({
    db,
    deps,
    emulator: { seed: async (data) => emulator.seed(data) },
    users: [{ userName: "alice", emails: ["alice@example.com"] }],
    userIds: seeded.users,
    flowName: FLOW,
    accountId: "111122223333",
    permissionSet: "S3Access",
    durationSeconds: 3600,
  });
  const token = await mintToken(db, ["requests:self"], { kind: "person", name: "alice@example.com" });

  // Alice's machine: the CLI's config file and the AWS CLI's SSO token cache.
  const home = await mkdtemp(join(tmpdir(), "keyturn-bench-home-"));
  onCleanUp("home", () => rm(home, { recursive: true, force: true }));
  const configDirectory = join(home, ".config", "keyturn");
  await mkdir(configDirectory, { recursive: true, mode: 0o700 });
  await writeFile(join(configDirectory, "config.json"), JSON.stringify({ apiUrl: api.url, token }), {
    mode: 0o600,
  });
  const signIn = emulator.signIn("alice");
  const ssoCache = join(home, ".aws", "sso", "cache");
  await mkdir(ssoCache, { recursive: true, mode: 0o700 });
  await writeFile(
    join(ssoCache, `${createHash("sha1").update(START_URL).digest("hex")}.json`),
    JSON.stringify({
      startUrl: START_URL,
      region: emulator.region,
      accessToken: signIn.accessToken,
      expiresAt: new Date(signIn.expiresAt).toISOString(),
    }),
    { mode: 0o600 },
  );
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const args = [BUNDLE, "credentials", FLOW, "--sso-start-url", START_URL, "--sso-region", emulator.region];
  const cacheFile = join(configDirectory, "credentials", `${FLOW}.json`);

  const floor: number[] = [];
  for (let i = 0; i < 10; i++) {
    floor.push((await timed(["-e", "0"], env)).ms);
  }
  const cold: number[] = [];
  let expiration = "";
  for (let i = 0; i < coldRuns; i++) {
    await rm(cacheFile, { force: true });
    const run = await timed(args, env);
    cold.push(run.ms);
    expiration = (JSON.parse(run.stdout) as { Expiration: string }).Expiration;
  }
  const cached: number[] = [];
  for (let i = 0; i < cachedRuns; i++) {
    const run = await timed(args, env);
    if ((JSON.parse(run.stdout) as { Expiration: string }).Expiration !== expiration) {
      throw new Error("a cached run answered other credentials than the cache holds");
    }
    cached.push(run.ms);
  }
  const floorF = figures(floor);
  const coldF = figures(cold);
  const cachedF = figures(cached);
  console.log(
    [
      "credential_process: `keyturn credentials` spawned as the AWS SDK spawns it",
      line("node -e 0 (the floor)", floor.length, floorF),
      line("cold (API + GetRoleCredentials)", cold.length, coldF),
      line("cached (0600 file, no network)", cached.length, cachedF),
    ].join("\n"),
  );
  return [
    {
      metric: "credential_process cached: p50 / p95",
      figure: `${ms(cachedF.p50)} / ${ms(cachedF.p95)}`,
      target: `< ${TARGET_CACHED_MS} ms`,
      met: cachedF.p95 < TARGET_CACHED_MS,
    },
    {
      metric: "credential_process cold: p50 / p95",
      figure: `${ms(coldF.p50)} / ${ms(coldF.p95)}`,
      target: "",
      met: null,
    },
    { metric: "node -e 0 on this machine: p50", figure: ms(floorF.p50), target: "", met: null },
  ];
}

try {
  const rows = await main();
  await cleanUp();
  printBenchResult("credential-process", rows);
} catch (error) {
  console.error(error);
  await cleanUp();
  process.exit(1);
}
