// `pnpm start` (scripts/start.sh): Keyturn on this machine, everything it needs included. By
// default it starts the local AWS emulator (a demo Identity Center and a protected bucket) and a
// local fake Slack; KEYTURN_LOCAL_AWS=real and KEYTURN_LOCAL_SLACK=real switch each to the real
// thing, separately (packages/config/src/local.ts). `--demo` then plays the whole story through
// the real HTTP surfaces and exits 0 only if every step held. The only file of this app that reads
// the environment.
import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { loadLocalConfig } from "@keyturn/config";
import { createPrismaClient, createUnitOfWork } from "@keyturn/db";
import { DEMO_ACCOUNT_ID, demoSeed, startAwsEmulator, startSlackFake } from "@keyturn/testkit";
import { startPagerDutyEmulator } from "@keyturn/testkit/provider-emulators";
import { API_SCOPES, createApiToken } from "@keyturn/usecases";
import { runDemo } from "./demo.js";
import { type AppExit, type AppProcess, startApp, stoppedCleanly, waitForHttp } from "./processes.js";

const { values } = parseArgs({ options: { demo: { type: "boolean", default: false } } });
const demo = values.demo;
const env = process.env;
const log = (line: string) => process.stdout.write(`\u001b[1m[keyturn]\u001b[0m ${line}\n`);

const loaded = loadLocalConfig(env);
if (!loaded.ok) {
  console.error(`keyturn: invalid configuration:\n  ${loaded.problems.join("\n  ")}`);
  process.exit(1);
}
const config = loaded.config;
const { databaseUrl, ports } = config;
const realAws = config.aws === "real";
const realSlack = config.slack === "real";
if (demo && (realAws || realSlack)) {
  console.error(
    "keyturn --demo plays its story against the local AWS emulator and fake Slack: unset KEYTURN_LOCAL_AWS and KEYTURN_LOCAL_SLACK (or set them to emulator and fake)",
  );
  process.exit(1);
}

const KEYTURN_KEY = "AKIAKEYTURNLOCAL0001";
const KEYTURN_ROLE = `arn:aws:iam::${DEMO_ACCOUNT_ID}:role/Keyturn`;
export const APPROVAL_CHANNEL = "C0KEYTURN";

const apps: AppProcess[] = [];
/** What this process serves itself (the emulator, the fake Slack): closed after the apps. */
const servers: Array<{ close(): Promise<void> }> = [];
let stopping: Promise<never> | undefined;

const describeExit = (exit: AppExit) =>
  exit.signal === null ? `exit code ${exit.code}` : `killed by ${exit.signal}`;

/**
 * Stops every app (SIGTERM: each finishes what it is doing and closes its connections; SIGKILL
 * after 15 s), then the emulator and the fake Slack, and exits with `code`, or 1 if an app had to
 * be killed or failed. Ctrl-C ends here with 0. Safe to call twice: the first call wins.
 */
function stopAll(code: number, reason: string): Promise<never> {
  stopping ??= (async () => {
    log(reason);
    const exits = await Promise.all(apps.map(async (app) => ({ app, exit: await app.stop() })));
    const unclean = exits.filter(({ exit }) => !stoppedCleanly(exit));
    for (const { app, exit } of unclean) {
      log(`${app.name} did not stop cleanly (${describeExit(exit)})`);
    }
    await Promise.allSettled(servers.map((server) => server.close()));
    process.exit(unclean.length > 0 ? Math.max(code, 1) : code);
  })();
  return stopping;
}

// Installed before anything starts, so that a Ctrl-C during start-up stops what already runs. A
// terminal's Ctrl-C reaches the apps too (one process group); they stop on it as on our SIGTERM.
let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    signals++;
    if (signals > 1) {
      log(`${signal} again: killing the apps`);
      for (const app of apps) {
        app.kill();
      }
      process.exit(1);
    }
    void stopAll(0, `${signal}: stopping api, slack and worker`);
  });
}

const shared: Record<string, string> = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: config.redis.url,
  // A demo never shares its queues with an installation (or an earlier demo) on the same Redis.
  REDIS_PREFIX: demo ? `keyturn-demo-${randomUUID().slice(0, 8)}` : (config.redis.prefix ?? "keyturn"),
  LOG_LEVEL: env.LOG_LEVEL ?? (demo ? "warn" : "info"),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
/** Variables of the shell that must not reach the apps: they would point them elsewhere. */
const dropped: string[] = [];

const emulator = realAws
  ? null
  : await startAwsEmulator({
      port: demo ? 0 : ports.emulator,
      assignmentDelayMs: 300,
    });
if (emulator !== null) {
  servers.push(emulator);
  const seed = demoSeed();
  emulator.seed({
    ...seed,
    callers: [
      ...(seed.callers ?? []),
      {
        accessKeyId: KEYTURN_KEY,
        roleArn: KEYTURN_ROLE,
        accountId: DEMO_ACCOUNT_ID,
        policies: [
          {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetEncryptionConfiguration"],
                Resource: "*",
              },
            ],
          },
        ],
      },
    ],
  });
  Object.assign(shared, {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_REGION: emulator.region,
    AWS_ACCESS_KEY_ID: KEYTURN_KEY,
    AWS_SECRET_ACCESS_KEY: "local-emulator",
    AWS_S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_PORTAL_URL: "https://d-0123456789.awsapps.com/start",
    AWS_SSO_REGION: emulator.region,
  });
  // A profile or per-service endpoint from the shell would take the apps to another AWS.
  dropped.push(
    ...Object.keys(env).filter(
      (name) =>
        name === "AWS_PROFILE" ||
        name === "AWS_SESSION_TOKEN" ||
        name === "AWS_IDENTITY_CENTER_INSTANCE_ARN" ||
        name === "AWS_IDENTITY_STORE_ID" ||
        name.startsWith("AWS_ENDPOINT_URL_"),
    ),
  );
  log(`AWS: local emulator on ${emulator.endpoint} (state at ${emulator.endpoint}/_emulator/state)`);
} else {
  log(
    `AWS: real (KEYTURN_LOCAL_AWS=real): region ${env.AWS_REGION ?? "(AWS_REGION unset)"}${env.AWS_ENDPOINT_URL === undefined ? "" : `, endpoint ${env.AWS_ENDPOINT_URL}`}`,
  );
}

const fakeSlack = realSlack ? null : await startSlackFake({ port: demo ? 0 : ports.fakeSlack });
const signingSecret = realSlack ? (env.SLACK_SIGNING_SECRET ?? "") : randomBytes(16).toString("hex");
if (fakeSlack !== null) {
  servers.push(fakeSlack);
  fakeSlack.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com", realName: "Alice Liddell" });
  fakeSlack.addUser({ id: "U0BOB", name: "bob", email: "bob@example.com", realName: "Bob Builder" });
  fakeSlack.addUser({ id: "U0CAROL", name: "carol", email: "carol@example.com", realName: "Carol Danvers" });
  fakeSlack.addChannel({ id: APPROVAL_CHANNEL, name: "access-requests", members: ["U0BOB", "U0CAROL"] });
  Object.assign(shared, {
    SLACK_BOT_TOKEN: fakeSlack.botToken,
    SLACK_API_URL: fakeSlack.url,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_DEFAULT_APPROVAL_CHANNEL: APPROVAL_CHANNEL,
  });
  dropped.push("SLACK_APP_TOKEN", "SLACK_MODE");
  log(`Slack: local fake Slack Web API on ${fakeSlack.url} (recorded calls are printed by --demo)`);
} else {
  log(`Slack: real (KEYTURN_LOCAL_SLACK=real): ${env.SLACK_API_URL ?? "https://slack.com/api/"}`);
}

// With the local fake Slack comes a local PagerDuty, where alice is on call in "Demo primary" for
// the next 12 hours (the on-call flow approves her without Bob); a PAGERDUTY_TOKEN from the shell
// takes the apps to the real one instead.
const pagerDuty = realSlack || env.PAGERDUTY_TOKEN !== undefined ? null : await startPagerDutyEmulator();
let onCallSchedule: string | null = null;
if (pagerDuty !== null) {
  servers.push(pagerDuty);
  const alice = pagerDuty.addUser({ name: "Alice Liddell", email: "alice@example.com" });
  const policy = pagerDuty.addEscalationPolicy({ name: "Demo platform" });
  onCallSchedule = pagerDuty.addSchedule({ name: "Demo primary" }).id;
  pagerDuty.addOnCall({
    userId: alice.id,
    escalationPolicyId: policy.id,
    scheduleId: onCallSchedule,
    start: Date.now() - 3600_000,
    end: Date.now() + 12 * 3600_000,
  });
  Object.assign(shared, { PAGERDUTY_TOKEN: pagerDuty.token, PAGERDUTY_API_URL: pagerDuty.url });
  log(`PagerDuty: local emulator on ${pagerDuty.url} (alice on call in "Demo primary")`);
}

try {
  const quiet = demo;
  // Each app inherits this process's environment, less what the local stand-ins replace.
  const inherited = Object.fromEntries(Object.entries(env).filter(([key]) => !dropped.includes(key)));
  apps.push(
    startApp("api", "apps/api/src/main.ts", { ...inherited, ...shared, API_PORT: String(ports.api) }, quiet),
  );
  apps.push(
    startApp(
      "worker",
      "apps/worker/src/main.ts",
      { ...inherited, ...shared, WORKER_HEALTH_PORT: String(ports.worker), SWEEP_INTERVAL_SECONDS: "5" },
      quiet,
    ),
  );
  apps.push(
    startApp(
      "slack",
      "apps/slack/src/main.ts",
      { ...inherited, ...shared, SLACK_PORT: String(ports.slack) },
      quiet,
    ),
  );
  for (const app of apps) {
    // The line the stop test reads to check that every process is gone afterwards.
    log(`${app.name} started (pid ${app.child.pid})`);
    void app.exited.then((exit) => {
      // Exiting cleanly on its own, an app was told to stop by someone else (an orchestrator, a
      // terminal's Ctrl-C that reached it first): stop the rest the same way.
      void stopAll(
        stoppedCleanly(exit) ? 0 : 1,
        `${app.name} ended (${describeExit(exit)}); stopping everything`,
      );
    });
  }
  const [api, worker] = apps as [AppProcess, AppProcess, AppProcess];
  await waitForHttp(`http://127.0.0.1:${ports.api}/readyz`, api);
  await waitForHttp(`http://127.0.0.1:${ports.worker}/readyz`, worker);

  const db = createPrismaClient({ databaseUrl });
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const minted = await createApiToken(
    { uow: createUnitOfWork(db, { clock, ids }), clock, ids },
    {
      name: `local-${new Date().toISOString()}`,
      ownerKind: "person",
      owner: "admin@example.com",
      // Every scope (queues:write covers queues:read); requests:on-behalf lets the README's example
      // file a request for someone else, as an integration would.
      scopes: API_SCOPES.filter((scope) => scope !== "queues:read"),
      expiresAt: new Date(Date.now() + 12 * 3600_000),
      by: { type: "system", id: "local-runner" },
    },
  );
  await db.$disconnect();
  if (!minted.ok) {
    throw new Error(minted.error.message);
  }
  const token = minted.value.token;
  const context = {
    apiUrl: `http://127.0.0.1:${ports.api}`,
    slackUrl: `http://127.0.0.1:${ports.slack}`,
    workerUrl: `http://127.0.0.1:${ports.worker}`,
    token,
    signingSecret,
    emulator,
    fakeSlack,
    keyturnRoleArn: KEYTURN_ROLE,
    demoSeconds: config.demoSeconds,
    onCallSchedule,
    log,
  };
  await seedLocalSetup(context);

  if (demo) {
    const ok = await runDemo(context);
    await stopAll(ok ? 0 : 1, "demo over: stopping api, slack and worker");
  }
  log(`API     ${context.apiUrl}  (OpenAPI: ${context.apiUrl}/docs)`);
  log(`Slack   ${context.slackUrl}/slack/events`);
  log(`Worker  ${context.workerUrl}/healthz  ${context.workerUrl}/metrics`);
  log(`Queues  ${context.apiUrl}/admin/queues  (any user name, the admin token as password)`);
  log(`Admin token (shown once, valid 12 h): ${token}`);
  log("Ctrl-C stops everything.");
} catch (error) {
  await stopAll(1, `failed: ${error instanceof Error ? error.message : String(error)}`);
}

export type LocalContext = {
  apiUrl: string;
  slackUrl: string;
  workerUrl: string;
  token: string;
  signingSecret: string;
  emulator: Awaited<ReturnType<typeof startAwsEmulator>> | null;
  fakeSlack: Awaited<ReturnType<typeof startSlackFake>> | null;
  keyturnRoleArn: string;
  /** The scripted demo's access window. */
  demoSeconds: number;
  /** The local PagerDuty's schedule alice is on call in; null without the local PagerDuty. */
  onCallSchedule: string | null;
  log(line: string): void;
};

/** The demo flow and the protected bucket, through the admin API like an operator would. */
async function seedLocalSetup(context: LocalContext): Promise<void> {
  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${context.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${context.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    }
    return response.json() as Promise<unknown>;
  };
  const flow = (
    name: string,
    title: string,
    maxDurationSeconds: number,
    defaultDurationSeconds: number,
    extra: Record<string, unknown> = {},
  ) =>
    call("PUT", `/v1/flows/${name}`, {
      title,
      targets: [{ accountId: DEMO_ACCOUNT_ID, permissionSetName: "S3Access" }],
      requesters: [{ kind: "anyone" }],
      approvers: [
        { kind: "slack_user", id: "U0BOB" },
        { kind: "email", email: "bob@example.com" },
      ],
      approvalsRequired: 1,
      selfApproval: false,
      autoApprove: false,
      breakGlass: false,
      defaultDurationSeconds,
      maxDurationSeconds,
      reason: { required: true },
      ticket: { required: false },
      pendingTimeoutSeconds: 3600,
      extensions: { maxCount: 1, maxExtensionSeconds: 3600, requiresApproval: false },
      approvalChannel: APPROVAL_CHANNEL,
      ...extra,
    });
  await flow("s3-data", "Demo data in S3", 8 * 3600, 3600);
  await flow(
    "s3-demo",
    "Demo data in S3 (short, for the scripted demo)",
    context.demoSeconds,
    context.demoSeconds,
  );
  if (context.onCallSchedule !== null) {
    // Whoever is on call in the local PagerDuty's "Demo primary" is approved by Keyturn itself.
    await flow(
      "s3-oncall",
      "Demo data in S3, approved for whoever is on call",
      8 * 3600,
      context.demoSeconds,
      {
        onCallApproval: {
          provider: "pagerduty",
          schedules: [context.onCallSchedule],
          escalationPolicies: [],
        },
      },
    );
  }
  if (context.emulator !== null) {
    await call("PUT", "/v1/buckets/keyturn-demo-data", {
      accountId: DEMO_ACCOUNT_ID,
      capabilities: {
        "administer-resource": [
          { roleArn: context.keyturnRoleArn },
          { roleArn: `arn:aws:iam::${DEMO_ACCOUNT_ID}:role/Admin` },
        ],
        "read-config": [
          { roleArn: context.keyturnRoleArn },
          { roleArn: `arn:aws:iam::${DEMO_ACCOUNT_ID}:role/Admin` },
        ],
        "read-data": [{ permissionSet: "S3Access", accountId: DEMO_ACCOUNT_ID }],
        "write-data": [{ permissionSet: "S3Access", accountId: DEMO_ACCOUNT_ID }],
        "delete-data": [{ permissionSet: "S3Access", accountId: DEMO_ACCOUNT_ID }],
      },
      kmsRequired: true,
    });
    await call("POST", "/v1/buckets/keyturn-demo-data/policy/apply", { confirm: true });
    context.log("bucket keyturn-demo-data protected by the generated least-privilege policy");
  }
}
