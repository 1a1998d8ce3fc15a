// Slack ack benchmark: does Keyturn add to Bolt's own floor when acknowledging interactions?
//
// In one process, one run: Keyturn's Slack app (real database, fake Slack Web API) and a bare Bolt
// app that only acks the same command and action ids. Each round fires the same burst at each, at
// once: 50 signed `/access` commands and 50 signed Approve clicks (on 50 pending requests, for
// Keyturn). The apps take turns, alternating who goes first, each burst after the same pause and
// a full garbage collection. The figure is the latency of each HTTP request (sent -> answer read,
// as the signed client measures it), which is what Slack's 3 s limit applies to. Keyturn's heavy
// work (database, Slack calls) happens after the ack and could compete with later acks of the
// same burst: that is the cost this measures. Keyturn's burst is over once that work is done too
// (every views.open and every reply to a click arrived), so rounds do not overlap.
//
// Prints p50/p99 per app (all requests, and commands and clicks apart), the p99 ratio against the
// 1.25 target, the median of the per-round ratios, how many of Keyturn's answers went out while its
// after-ack work was running, and the load average: everything shares the machine's CPUs (the
// apps, the fake Slack, the client, PostgreSQL), so a busy machine shows in the figures.
//
//   pnpm exec tsx bench/slack-ack/run.ts            (BENCH_ROUNDS=8, BENCH_BURST=50)
//
// Needs PostgreSQL (KEYTURN_TEST_PG_URL, a superuser URL; default postgres@127.0.0.1:5432): it
// creates and drops a scratch database of its own.

// Before @slack/bolt loads (see that file).
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createRedisReplayMemory, createSlackApp } from "../../apps/slack/src/index.js";
import { createPrismaClient, createUnitOfWork, migrate } from "../../packages/db/src/index.js";
import { createLogger } from "../../packages/observability/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { ACTION_IDS, slackPrincipal } from "../../packages/slack/src/index.js";
import {
  databaseUrl,
  newTestDatabaseName,
  quoteIdentifier,
  withAdmin,
} from "../../packages/testkit/src/database/admin.js";
import { testFlowRules } from "../../packages/testkit/src/flow-rules.js";
import {
  createSlackClient,
  type SignedSlackClient,
  type SlackDelivery,
  type SlackFake,
  startSlackFake,
} from "../../packages/testkit/src/slack-fake/index.js";
import { type Deps, putFlow, submitRequest } from "../../packages/usecases/src/index.js";
import { type BenchRow, printBenchResult } from "../support/report.js";
import { REDIS_URL } from "../support/scratch.js";

// The same Bolt Keyturn runs, resolved from the app (the bench has no dependencies of its own).
const bolt = createRequire(new URL("../../apps/slack/package.json", import.meta.url))(
  "@slack/bolt",
) as typeof import("@slack/bolt");

// Each app's garbage is collected before every burst, so neither pays for the other's.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/**
 * Before each burst, for both apps alike: no idle keep-alive connection left from an earlier burst
 * (whether the client could reuse them would depend on the order of the rounds), a pause, and a
 * full garbage collection.
 */
async function cooledDown(servers: Array<Server | undefined>): Promise<void> {
  for (const server of servers) {
    server?.closeIdleConnections();
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
  collectGarbage();
}

// The bench's own knobs (it is a script, not an app: no config package involved).
const { BENCH_ROUNDS, BENCH_BURST, BENCH_CPU_SAMPLES, KEYTURN_TEST_PG_URL } = process.env;
const ROUNDS = Number(BENCH_ROUNDS ?? 8);
const BURST = Number(BENCH_BURST ?? 50);
const CPU_SAMPLES = Number(BENCH_CPU_SAMPLES ?? 200);
const TARGET_RATIO = 1.25;
const SECRET = "bench-signing-secret-0123456789abcdef";
const CHANNEL = "C0APPROVALS";
const _ACCOUNT = "111122223333";

const pad = (i: number) => String(i).padStart(3, "0");
const requesters = Array.from({ length: BURST }, (_, i) => ({
  id: `U0REQ${pad(i)}`,
  name: `req${i}`,
  email: `req${i}@example.com`,
}));
const approvers = Array.from({ length: BURST }, (_, i) => ({
  id: `U0APR${pad(i)}`,
  name: `apr${i}`,
  email: `apr${i}@example.com`,
}));

type Target = {
  name: "keyturn" | "bare";
  client: SignedSlackClient;
  /** Whether the app's after-ack work is running right now (Keyturn only). */
  busy(): boolean;
  /** Makes what one burst clicks on; returns the request ids. */
  prepare(): Promise<string[]>;
  /** Waits for the work the burst set off after its acks (none for the bare app). */
  settle(work: { triggers: string[]; responseUrls: string[] }): Promise<void>;
};

type Sample = { app: Target["name"]; kind: "command" | "click"; ms: number; status: number };

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function stats(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
}

/** The i-th interaction of a burst: a requester's `/access` and an approver's Approve click. */
function interaction(fake: SlackFake, requestIds: string[], i: number) {
  const requester = requesters[i % requesters.length];
  const approver = approvers[i % approvers.length];
  const requestId = requestIds[i % requestIds.length];
  if (requester === undefined || approver === undefined || requestId === undefined) {
    throw new Error("missing fixture");
  }
  const triggerId = fake.newTriggerId(requester.id);
  const responseUrl = fake.newResponseUrl({ kind: "actions", channelId: CHANNEL, userId: approver.id });
  return {
    triggerId,
    responseUrl,
    command: (client: SignedSlackClient) =>
      client.slashCommand({ command: "/access", userId: requester.id, triggerId }),
    click: (client: SignedSlackClient) =>
      client.blockAction({
        userId: approver.id,
        actionId: ACTION_IDS.approve,
        channelId: CHANNEL,
        messageTs: `${Math.floor(Date.now() / 1000)}.${pad(i)}000`,
        value: requestId,
        responseUrl,
      }),
  };
}

async function burst(
  target: Target,
  fake: SlackFake,
  requestIds: string[],
): Promise<{ samples: Sample[]; overlapped: number }> {
  const triggers: string[] = [];
  const responseUrls: string[] = [];
  const sends: Array<Promise<{ kind: Sample["kind"]; delivery: SlackDelivery }>> = [];
  for (let i = 0; i < BURST; i++) {
    const one = interaction(fake, requestIds, i);
    triggers.push(one.triggerId);
    responseUrls.push(one.responseUrl);
    sends.push(
      one.command(target.client).then((delivery) => ({ kind: "command" as const, delivery })),
      one.click(target.client).then((delivery) => ({ kind: "click" as const, delivery })),
    );
  }
  // Answers that arrived while after-ack work was running: it could have delayed them.
  let overlapped = 0;
  const results = await Promise.all(
    sends.map((send) =>
      send.then((result) => {
        overlapped += target.busy() ? 1 : 0;
        return result;
      }),
    ),
  );
  await target.settle({ triggers, responseUrls });
  const samples = results.map(({ kind, delivery }) => ({
    app: target.name,
    kind,
    ms: delivery.latencyMs,
    status: delivery.status,
  }));
  return { samples, overlapped };
}

/**
 * CPU (user + system, this process) from sending one interaction to reading its ack, one at a
 * time, with the app's after-ack work settled before the next: the per-interaction cost a burst
 * queues up behind, which is what makes its tail. Unlike latency it hardly moves when other
 * processes load the machine. The client's own work (signing, fetch) is in both apps' figures.
 */
async function cpuPerAck(target: Target, fake: SlackFake, count: number): Promise<number> {
  const requestIds = await target.prepare();
  let totalMicros = 0;
  for (let i = 0; i < count; i++) {
    const one = interaction(fake, requestIds, i);
    const isCommand = i % 2 === 0;
    const before = process.cpuUsage();
    await (isCommand ? one.command(target.client) : one.click(target.client));
    const used = process.cpuUsage(before);
    totalMicros += used.user + used.system;
    await target.settle(
      isCommand
        ? { triggers: [one.triggerId], responseUrls: [] }
        : { triggers: [], responseUrls: [one.responseUrl] },
    );
  }
  return totalMicros / count / 1000;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<BenchRow[]> {
  // Other processes on the machine (a test run next door) show up in the figures: say so.
  const loadAtStart = load();
  const adminUrl = KEYTURN_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  // A test-database name, so an interrupted run's leftover is dropped by the next test run.
  const dbName = newTestDatabaseName();
  const url = databaseUrl(adminUrl, dbName);
  const migrationsDir = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));
  await migrate({
    databaseUrl: url,
    migrationsDir,
    logger: { info: () => undefined, warn: () => undefined },
  });
  const db = createPrismaClient({ databaseUrl: url, maxConnections: 20 });
  const fake = await startSlackFake();
  const errors: string[] = [];
  const logger = createLogger({
    name: "bench",
    level: "warn",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        errors.push(chunk.toString("utf8"));
        done();
      },
    }),
  });
  let keyturnApp: ReturnType<typeof createSlackApp> | undefined;
  // Keyturn's replay memory is part of what it does before each ack: measured with it.
  const redis = createRedisConnection(REDIS_URL, "producer");
  let bareServer: Server | undefined;
  let bareApp: InstanceType<typeof bolt.App> | undefined;
  try {
    for (const person of [...requesters, ...approvers]) {
      fake.addUser(person);
    }
    fake.addChannel({ id: CHANNEL, name: "access-approvals" });
    const clock = { now: () => new Date() };
    const ids = { uuid: randomUUID };
    const usecases: Deps = { uow: createUnitOfWork(db, { clock, ids }), clock, ids };
    const flow = await putFlow(usecases, {
      name: "bench",
      by: { type: "system", id: "bench" },
      rules: testFlowRules({
        title: "Bench data",
        approvers: approvers.map((a) => ({ kind: "email" as const, email: a.email })),
        approvalChannel: CHANNEL,
      }),
    });
    if (!flow.ok) {
      throw new Error(flow.error.message);
    }

    keyturnApp = createSlackApp({
      db,
      clock,
      ids,
      logger,
      slack: {
        botToken: fake.botToken,
        apiUrl: fake.url,
        transport: { mode: "http", signingSecret: SECRET, port: 0 },
      },
      aws: { portalUrl: "https://d-1234567890.awsapps.com/start", ssoRegion: "eu-west-1" },
      replays: createRedisReplayMemory({ redis, prefix: `kt-bench-${randomUUID().slice(0, 8)}` }),
    });
    const keyturnPort = (await keyturnApp.start(0)).port;

    const clientOptions = {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    };
    bareApp = new bolt.App({
      token: fake.botToken,
      signingSecret: SECRET,
      clientOptions,
      logLevel: bolt.LogLevel.ERROR,
    });
    bareApp.command("/access", async ({ ack }) => {
      await ack();
    });
    bareApp.action(ACTION_IDS.approve, async ({ ack }) => {
      await ack();
    });
    bareServer = (await bareApp.start(0)) as Server;
    const barePort = (bareServer.address() as AddressInfo).port;

    const keyturn: Target = {
      name: "keyturn",
      client: createSlackClient({ appUrl: `http://127.0.0.1:${keyturnPort}`, signingSecret: SECRET, fake }),
      busy: () => (keyturnApp?.services.afterAck.stats().running ?? 0) > 0,
      async prepare() {
        const made: string[] = [];
        for (const requester of requesters) {
          const result = await submitRequest(usecases, {
            flowName: "bench",
            requester: slackPrincipal(requester.email, requester.id, []),
            source: "slack",
            reason: "bench",
          });
          if (!result.ok) {
            throw new Error(result.error.message);
          }
          made.push(result.value.id);
        }
        return made;
      },
      async settle({ triggers, responseUrls }) {
        await Promise.all([
          ...triggers.map((t) => fake.waitForCall("views.open", (c) => c.args.trigger_id === t, 30_000)),
          ...responseUrls.map((u) => fake.waitForCall("response_url", (c) => c.responseUrl === u, 30_000)),
        ]);
        // The fake records a call before it answers: the app still reads that answer (the Web API
        // client parses and logs it) and ends its task. Settled is when that is done too, or the
        // next interaction's CPU until the ack (cpuPerAck) would count this one's tail.
        if (!(await keyturnApp?.services.afterAck.drained(30_000))) {
          throw new Error("Keyturn's after-ack work did not finish within 30 s");
        }
      },
    };
    const bare: Target = {
      name: "bare",
      client: createSlackClient({ appUrl: `http://127.0.0.1:${barePort}`, signingSecret: SECRET, fake }),
      busy: () => false,
      prepare: async () => Array.from({ length: BURST }, () => randomUUID()),
      settle: async () => undefined,
    };

    // Warm-up (JIT, connection pools, Bolt's auth.test, identity pins): not counted.
    for (const target of [keyturn, bare, keyturn, bare]) {
      await burst(target, fake, await target.prepare());
    }
    fake.clearCalls();

    const samples: Sample[] = [];
    const roundRatios: number[] = [];
    let overlappedTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [keyturn, bare] : [bare, keyturn];
      const p99: Record<string, number> = {};
      // Both bursts follow the same database work (Keyturn's pending requests), in either order.
      const prepared = new Map([
        [keyturn.name, await keyturn.prepare()],
        [bare.name, await bare.prepare()],
      ]);
      for (const target of order) {
        await cooledDown([keyturnApp.httpServer(), bareServer]);
        const got = await burst(target, fake, prepared.get(target.name) ?? []);
        samples.push(...got.samples);
        overlappedTotal += got.overlapped;
        p99[target.name] = stats(got.samples).p99;
      }
      fake.clearCalls();
      const ratio = (p99.keyturn ?? Number.NaN) / (p99.bare ?? Number.NaN);
      roundRatios.push(ratio);
      console.log(
        `round ${round + 1} (${order[0]?.name} first): p99 keyturn ${p99.keyturn?.toFixed(1)} ms, bare ${p99.bare?.toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
      );
    }

    // Sequential, after the bursts: CPU until the ack, per interaction.
    const cpu = { keyturn: 0, bare: 0 };
    for (const target of [keyturn, bare, keyturn, bare]) {
      collectGarbage();
      cpu[target.name] += (await cpuPerAck(target, fake, CPU_SAMPLES)) / 2;
    }

    const failed = samples.filter((s) => s.status !== 200);
    const line = (label: string, picked: Sample[]) => {
      const s = stats(picked);
      return `${label.padEnd(22)} n=${String(s.n).padStart(4)}  p50 ${s.p50.toFixed(1).padStart(7)} ms  p99 ${s.p99.toFixed(1).padStart(7)} ms  max ${s.max.toFixed(1).padStart(7)} ms`;
    };
    const of = (app: Sample["app"], kind?: Sample["kind"]) =>
      samples.filter((s) => s.app === app && (kind === undefined || s.kind === kind));
    console.log(
      `slack-ack: ${ROUNDS} rounds x (${BURST} /access + ${BURST} Approve clicks at once) per app, alternating first; ` +
        `Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAtStart} at start, ${load()} at end`,
    );
    console.log(line("keyturn (all)", of("keyturn")));
    console.log(line("bare bolt (all)", of("bare")));
    console.log(line("keyturn /access", of("keyturn", "command")));
    console.log(line("bare bolt /access", of("bare", "command")));
    console.log(line("keyturn Approve", of("keyturn", "click")));
    console.log(line("bare bolt Approve", of("bare", "click")));
    const ratio = stats(of("keyturn")).p99 / stats(of("bare")).p99;
    const medianRoundRatio = quantile(
      [...roundRatios].sort((a, b) => a - b),
      0.5,
    );
    const p50Ratio = stats(of("keyturn")).p50 / stats(of("bare")).p50;
    console.log(
      `p99 ratio keyturn/bare = ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}): ${ratio <= TARGET_RATIO ? "PASS" : "FAIL"}; ` +
        `median of per-round p99 ratios ${medianRoundRatio.toFixed(2)}; p50 ratio ${p50Ratio.toFixed(2)}`,
    );
    console.log(
      `CPU until the ack, one interaction at a time (client included): keyturn ${cpu.keyturn.toFixed(2)} ms, ` +
        `bare ${cpu.bare.toFixed(2)} ms, Keyturn's own ${(cpu.keyturn - cpu.bare).toFixed(2)} ms per interaction`,
    );
    console.log(
      `non-200 answers: ${failed.length}; Keyturn answers sent while its after-ack work ran: ${overlappedTotal}; ` +
        `warnings/errors logged: ${errors.length}` +
        (errors.length > 0 ? `\n  first: ${errors[0]?.slice(0, 300)}` : ""),
    );
    // A missed target is a figure (met: false in the result); an unanswered interaction is a failure.
    process.exitCode = failed.length === 0 ? 0 : 1;
    const keyturnAll = stats(of("keyturn"));
    const bareAll = stats(of("bare"));
    return [
      {
        metric: `Slack ack p99, Keyturn vs bare Bolt (${BURST} /access + ${BURST} Approve at once, ${ROUNDS} rounds)`,
        figure: `${ratio.toFixed(2)}x (${keyturnAll.p99.toFixed(0)} ms vs ${bareAll.p99.toFixed(0)} ms)`,
        target: `<= ${TARGET_RATIO}x bare Bolt`,
        met: ratio <= TARGET_RATIO,
      },
      {
        metric: "Slack ack, per-round p99 ratios (Keyturn / bare)",
        figure: roundRatios.map((r) => r.toFixed(2)).join(", "),
        target: `each <= ${TARGET_RATIO}`,
        met: roundRatios.every((r) => r <= TARGET_RATIO),
      },
      {
        metric: "Slack ack, Keyturn answers sent while its after-ack work ran",
        figure: `${overlappedTotal} of ${of("keyturn").length}`,
        target: "",
        met: null,
      },
      {
        metric: "Slack ack, CPU until the ack per interaction, Keyturn vs bare Bolt (sequential)",
        figure: `${cpu.keyturn.toFixed(2)} ms vs ${cpu.bare.toFixed(2)} ms`,
        target: "",
        met: null,
      },
      {
        metric: "Slack ack, slowest answer (Slack's limit)",
        figure: `${keyturnAll.max.toFixed(0)} ms, ${failed.length} non-200`,
        target: "< 3000 ms",
        met: keyturnAll.max < 3000 && failed.length === 0,
      },
    ];
  } finally {
    await keyturnApp?.stop();
    await redis.quit();
    if (bareApp !== undefined) {
      const stopping = bareApp.stop();
      bareServer?.closeAllConnections();
      await stopping;
    }
    await fake.close();
    await db.$disconnect();
    await withAdmin(adminUrl, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(dbName)} WITH (FORCE)`),
    );
  }
}

const rows = await main();
printBenchResult("slack-ack", rows);
