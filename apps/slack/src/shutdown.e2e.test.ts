import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createPrismaClient, createUnitOfWork, type PrismaClient } from "@keyturn/db";
import { createSlackClient, type SlackFake, startSlackFake } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { putFlow } from "@keyturn/usecases";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { flowRules, formValues, PEOPLE, PORTAL_URL, SIGNING_SECRET, SSO_REGION } from "./test-support.js";

// The Slack app as deployed (src/main.ts, configured by its environment): its health endpoints,
// and a stop (SIGTERM) that arrives while the work after a burst of acks is still running.

const mainScript = fileURLToPath(new URL("./main.ts", import.meta.url));
const appDir = fileURLToPath(new URL("../", import.meta.url));
const database = useTestDatabase();
let fake: SlackFake;
let db: PrismaClient;
const running = new Set<ChildProcessWithoutNullStreams>();
const REDIS_URL = "redis://127.0.0.1:6379";
const redisPrefix = `kt-shutdown-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  fake = await startSlackFake();
  for (const person of Object.values(PEOPLE)) {
    fake.addUser(person);
  }
  db = createPrismaClient({ databaseUrl: database.url });
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const put = await putFlow(
    { uow: createUnitOfWork(db, { clock, ids }), clock, ids },
    { name: "s3-prod", rules: flowRules(), by: { type: "system", id: "test" } },
  );
  expect(put.ok).toBe(true);
});
afterEach(() => {
  for (const child of running) {
    child.kill("SIGKILL");
  }
});
afterAll(async () => {
  await db.$disconnect();
  await fake.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** Starts src/main.ts and resolves once it listens. */
async function startSlackApp(databaseUrl: string, redisUrl = REDIS_URL) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", mainScript], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_API_URL: fake.url,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_PORT: String(port),
      AWS_ACCESS_PORTAL_URL: PORTAL_URL,
      AWS_SSO_REGION: SSO_REGION,
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
    },
  });
  running.add(child);
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("listening for Slack")) {
        resolve();
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    void exited.then((exit) =>
      reject(new Error(`the Slack app exited (${JSON.stringify(exit)}):\n${output}`)),
    );
  });
  return { child, url: `http://127.0.0.1:${port}`, exited, output: () => output };
}

describe("the Slack app process", () => {
  it("answers /healthz, and /readyz only while PostgreSQL and Redis answer", async () => {
    const up = await startSlackApp(database.url);
    expect(await (await fetch(`${up.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${up.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: "ready", postgres: true, redis: true },
    ]);
    up.child.kill("SIGTERM");
    expect(await up.exited).toEqual({ code: 0, signal: null });

    // The same app with nothing listening where its database should be.
    const unreachable = new URL(database.url);
    unreachable.port = String(await freePort());
    const down = await startSlackApp(unreachable.toString());
    expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${down.url}/readyz`);
    expect([notReady.status, await notReady.json()]).toEqual([
      503,
      { status: "not_ready", postgres: false, redis: true },
    ]);
    down.child.kill("SIGTERM");
    expect(await down.exited).toEqual({ code: 0, signal: null });

    // And with nothing listening where Redis should be: the request guard would refuse Slack.
    const noRedis = await startSlackApp(database.url, `redis://127.0.0.1:${await freePort()}`);
    const redisDown = await fetch(`${noRedis.url}/readyz`);
    expect([redisDown.status, await redisDown.json()]).toEqual([
      503,
      { status: "not_ready", postgres: true, redis: false },
    ]);
    noRedis.child.kill("SIGTERM");
    expect(await noRedis.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("stopped right after a burst of acks, finishes the work they promised, then exits 0 with no error logged", async () => {
    const app = await startSlackApp(database.url);
    const slack = createSlackClient({ appUrl: app.url, signingSecret: SIGNING_SECRET, fake });
    const requesters = [PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, PEOPLE.dave];
    const burst = 20;
    // Twenty modals open, one per submission to come. (A trigger id lives 3 s: a cold app's first
    // modal may miss it on a busy machine, and Slack would simply be asked again.)
    const views: Array<{ user: (typeof requesters)[number]; viewId: string }> = [];
    for (let i = 0; i < burst; i++) {
      const user = requesters[i % requesters.length] ?? PEOPLE.alice;
      for (let attempt = 1; ; attempt++) {
        const triggerId = fake.newTriggerId(user.id);
        await slack.slashCommand({ command: "/access", userId: user.id, text: "", triggerId });
        const call = await fake.waitForCall("views.open", (c) => c.args.trigger_id === triggerId, 30_000);
        const view = call.response.view as { id: string } | undefined;
        if (view !== undefined) {
          views.push({ user, viewId: view.id });
          break;
        }
        if (attempt >= 3) {
          throw new Error(`views.open answered ${JSON.stringify(call.response)}`);
        }
      }
    }
    // The burst: each submission is acknowledged at once, and its request is made after the ack.
    const acks = await Promise.all(
      views.map(({ user, viewId }, i) =>
        slack.viewSubmission({
          userId: user.id,
          view: {
            id: viewId,
            state: {
              values: formValues({ flow: "s3-prod", durationSeconds: 3600, reason: `INC-${i} burst` }),
            },
          },
        }),
      ),
    );
    expect(acks.map((ack) => ack.status)).toEqual(Array(burst).fill(200));
    app.child.kill("SIGTERM");
    const exit = await app.exited;

    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    // Every acknowledged submission became a request before the process let go of the database.
    expect(await db.accessRequest.count({ where: { reason: { endsWith: "burst" } } })).toBe(burst);
    const lines = app
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(app.output()).not.toContain("Unknown transaction status");
  }, 120_000);
});
