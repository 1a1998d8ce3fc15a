// Revocation lag: K leases end at the same instant T; how long until each assignment is gone?
//
//   pnpm exec tsx bench/revocation-lag/run.ts [--k 100,1000] [--workers 2] [--calls-per-second 18]
//     [--max-wait-s 330] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--redis-url redis://...]
//
// For each K: a database of its own (migrated by the project's migrate command), a Redis prefix of
// its own, the AWS emulator with Identity Center's quotas ON (20 calls/s, 15 creations in flight),
// and worker processes running src/main.ts as deployed (sweep every 30 s), pointed at the emulator.
//
// What is measured, and what is set up rather than measured:
// - Set up directly, before any worker runs: K users, K requests submitted and approved through
//   the use cases, their grants taken as done (each identity pinned to its Identity Center user,
//   each assignment marked as Keyturn's and present, the assignments seeded into the emulator, the
//   grant jobs marked relayed). Granting K assignments through the quota would take K * ~6 calls
//   at 18/s (more than five minutes for K = 1000) and is not what this bench is about.
// - Then every request is activated through the activate use case (which writes the delayed "lease
//   end" reconcile message to the outbox), and the leases are rescheduled in the database to end
//   at one instant T, a few seconds ahead: the lease's and the request's end and the message's
//   due time. The workers start after that, and their relay moves the messages into BullMQ as
//   delayed jobs like any others.
// - Four warm-up leases end 4 s before T, so that the workers have compiled their queries and
//   looked up the instance, as long-running workers have; their removals are not counted.
// - Measured: from T, the workers' real removal path (delayed job -> reconcile -> Identity Center
//   calls under the shared Redis limiter -> request expired). Lag per lease = the instant the assignment
//   is gone in AWS (the emulator accepted its DeleteAccountAssignment, plus the 50 ms the emulator
//   takes to carry it out) minus T; also shown: until the worker confirmed it (its ReconcileAttempt
//   row). The call rate counts every Identity Center call (sso-admin + identitystore) the emulator
//   logged from T to the last assignment gone.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import {
  type ChildWorker,
  killChildWorkers,
  startChildWorker,
} from "../../apps/worker/src/testing/child-worker.js";
import { startEmulatorProcess } from "../../apps/worker/src/testing/emulator-process.js";
import { createPrismaClient, createUnitOfWork, type PrismaClient } from "../../packages/db/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { databaseUrl, quoteIdentifier, withAdmin } from "../../packages/testkit/src/database/admin.js";
import { testFlowRules } from "../../packages/testkit/src/flow-rules.js";
import { type CallRecord, maxCallsInAnyWindow } from "../../packages/testkit/src/index.js";
import { type Deps, putFlow } from "../../packages/usecases/src/index.js";
import { grantActiveLeases } from "../support/grants.js";

const QUOTA_PER_SECOND = 20;
// The emulator's default time for AWS to carry out an assignment request (server.ts).
const EMULATED_AWS_MS = 50;
const WARM_UP = 4;
const ACCOUNT = "111122223333";
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const migrateCli = fileURLToPath(new URL("../../packages/db/src/migrate-cli.ts", import.meta.url));

const { values } = parseArgs({
  options: {
    k: { type: "string", default: "100,1000" },
    workers: { type: "string", default: "2" },
    "calls-per-second": { type: "string", default: "18" },
    "max-wait-s": { type: "string", default: "330" },
    "pg-url": { type: "string", default: "postgresql://postgres@127.0.0.1:5432/postgres" },
    "redis-url": { type: "string", default: "redis://127.0.0.1:6379" },
    /** Writes the emulator's call log (ms from T, operation, outcome) there, for diagnosis. */
    "dump-calls": { type: "string" },
  },
});
const ADMIN_URL = values["pg-url"] ?? "";
const REDIS_URL = values["redis-url"] ?? "";
const ks = (values.k ?? "").split(",").map((k) => Number.parseInt(k, 10));
const workerCount = Number.parseInt(values.workers ?? "2", 10);
const callsPerSecond = Number.parseInt(values["calls-per-second"] ?? "18", 10);
const maxWaitMs = Number.parseInt(values["max-wait-s"] ?? "330", 10) * 1000;
if (ks.some((k) => !(k > 0)) || !(workerCount > 0) || !(callsPerSecond > 0) || !(maxWaitMs > 0)) {
  throw new Error("usage: run.ts [--k 100,1000] [--workers 2] [--calls-per-second 18] [--max-wait-s 330]");
}

type Result = {
  k: number;
  removed: number;
  goneLagMs: { p50: number; p99: number; max: number };
  confirmedLagMs: { p50: number; p99: number; max: number };
  phaseMs: number;
  calls: number;
  callsPerSecond: number;
  maxCallsInOneSecond: number;
  byOperation: Record<string, number>;
  throttled: number;
  quotaExceeded: number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** Leases not removed by the deadline count as infinitely late, so they still weigh on p99. */
function summary(values: number[], missing = 0) {
  const sorted = [...values, ...new Array<number>(Math.max(0, missing)).fill(Number.POSITIVE_INFINITY)].sort(
    (a, b) => a - b,
  );
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/** A fixed permutation (a small LCG), so that runs are comparable. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let state = 42;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function createDatabase(): Promise<{ name: string; url: string }> {
  const name = `keyturn_bench_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const url = databaseUrl(ADMIN_URL, name);
  await withAdmin(ADMIN_URL, (admin) =>
    admin.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE template0`),
  );
  await promisify(execFile)(process.execPath, ["--import", "tsx", migrateCli], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: url },
  });
  return { name, url };
}

async function dropDatabase(name: string): Promise<void> {
  await withAdmin(ADMIN_URL, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
  );
}

async function clearRedisPrefix(prefix: string): Promise<void> {
  const redis = createRedisConnection(REDIS_URL, "worker");
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) {
      await redis.del(...keys);
    }
  } while (cursor !== "0");
  await redis.quit();
}

// What to undo if the run is interrupted (Ctrl-C): worker and emulator processes, database, keys.
let interrupted: (() => Promise<void>) | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void (interrupted?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function runOnce(k: number): Promise<Result> {
  const prefix = `kt-bench-${randomUUID().slice(0, 8)}`;
  const database = await createDatabase();
  // In a process of its own, so that it times the calls as the workers send them.
  const emulator = await startEmulatorProcess({ quotas: true });
  const db: PrismaClient = createPrismaClient({ databaseUrl: database.url, maxConnections: 20 });
  let workers: ChildWorker[] = [];
  const cleanUp = async () => {
    interrupted = undefined;
    for (const worker of workers) {
      worker.signal("SIGTERM");
    }
    await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(15_000)]);
    await killChildWorkers();
    await db.$disconnect();
    await emulator.close();
    await clearRedisPrefix(prefix);
    await dropDatabase(database.name);
  };
  interrupted = cleanUp;
  try {
    const measured = Array.from({ length: k }, (_, i) => ({
      userName: `bench${i}`,
      emails: [`bench${i}@example.com`],
    }));
    // Warm-up leases end a few seconds before T: a worker that has never run a removal compiles its
    // queries and looks up the instance during the first ones, which a long-running worker did
    // long ago. Their removals are not counted.
    const warmUp = Array.from({ length: WARM_UP }, (_, i) => ({
      userName: `warm${i}`,
      emails: [`warm${i}@example.com`],
    }));
    const users = [...measured, ...warmUp];
    const seeded = await emulator.seed({
      accounts: [ACCOUNT],
      users,
      permissionSets: [{ name: "S3Access", sessionDuration: "PT1H" }],
    });

    // Ends far away until the leases are rescheduled to T.
    const durationSeconds = 3600;
    const setupClock = { now: () => new Date() };
    const ids = { uuid: randomUUID };
    const deps: Deps = { uow: createUnitOfWork(db, { clock: setupClock, ids }), clock: setupClock, ids };
    const flow = await putFlow(deps, {
      name: "s3",
      by: { type: "system", id: "bench" },
      rules: testFlowRules({ defaultDurationSeconds: durationSeconds, maxDurationSeconds: 3600 }),
    });
    if (!flow.ok) {
      throw new Error(flow.error.message);
    }
    await grantActiveLeases({
      db,
      deps,
      emulator,
      users,
      userIds: seeded.users,
      flowName: "s3",
      accountId: ACCOUNT,
      permissionSet: "S3Access",
      durationSeconds,
      // Shuffled, as AWS promises no order: nothing in the removal path may depend on it.
      order: shuffled,
    });
    // No bucket is protected here: the lease ends' cut-off runs would find nothing to do.
    await db.outboxMessage.updateMany({
      where: { sentAt: null, topic: "cutoff.arm" },
      data: { sentAt: new Date() },
    });

    // T: time for the workers to start and relay K messages (a few hundred per second).
    const endsAt = Date.now() + 14_000 + k * 10;
    const at = new Date(endsAt);
    await db.lease.updateMany({ data: { endsAt: at } });
    await db.accessRequest.updateMany({ data: { expiresAt: at } });
    const rescheduled = await db.outboxMessage.updateMany({
      where: { sentAt: null, topic: "assignment.reconcile" },
      data: { availableAt: at },
    });
    if (rescheduled.count !== users.length) {
      throw new Error(`expected ${users.length} lease-end messages, found ${rescheduled.count}`);
    }
    const warmAt = new Date(endsAt - 4_000);
    const warmRequests = await db.accessRequest.findMany({
      where: { requester: { email: { in: warmUp.map((u) => u.emails[0] ?? "") } } },
      select: { id: true, lease: { select: { assignmentId: true } } },
    });
    const warmAssignments = warmRequests.flatMap((r) => (r.lease === null ? [] : [r.lease.assignmentId]));
    const warmPrincipals = new Set(warmUp.map((u) => seeded.users[u.userName]));
    for (const request of warmRequests) {
      await db.lease.updateMany({ where: { requestId: request.id }, data: { endsAt: warmAt } });
      await db.accessRequest.update({ where: { id: request.id }, data: { expiresAt: warmAt } });
      await db.outboxMessage.updateMany({
        where: {
          sentAt: null,
          topic: "assignment.reconcile",
          payload: { path: ["requestId"], equals: request.id },
        },
        data: { availableAt: warmAt },
      });
    }

    workers = await Promise.all(
      Array.from({ length: workerCount }, () =>
        startChildWorker({
          databaseUrl: database.url,
          emulator,
          prefix,
          redisUrl: REDIS_URL,
          sweepIntervalSeconds: 30,
          concurrency: 32,
          outboxPollMs: 1000,
          callsPerSecond,
        }),
      ),
    );
    const warmedUp = async () =>
      (await db.reconcileAttempt.count({
        where: { operation: "delete", outcome: "succeeded", assignmentId: { in: warmAssignments } },
      })) === WARM_UP;
    while (!(await warmedUp()) && Date.now() < endsAt - 500) {
      await sleep(100);
    }
    if (!(await warmedUp())) {
      console.warn("  warning: the warm-up removals were not done by T - 0.5 s");
    }
    await emulator.clearCallLog();
    for (;;) {
      const unsent = await db.outboxMessage.count({ where: { sentAt: null, topic: "assignment.reconcile" } });
      if (unsent === 0) {
        break;
      }
      if (Date.now() >= endsAt) {
        console.warn(
          `  warning: ${unsent} lease-end jobs not yet relayed at T; their lag includes the relay`,
        );
        break;
      }
      await sleep(100);
    }
    const slackBeforeT = endsAt - Date.now();

    const deadline = endsAt + maxWaitMs;
    let removed = 0;
    while (Date.now() < deadline) {
      removed = await db.reconcileAttempt.count({
        where: { operation: "delete", outcome: "succeeded", assignmentId: { notIn: warmAssignments } },
      });
      if (removed >= k) {
        break;
      }
      await sleep(200);
    }
    const attempts = await db.reconcileAttempt.findMany({
      where: { operation: "delete", outcome: "succeeded", assignmentId: { notIn: warmAssignments } },
      select: { finishedAt: true },
    });
    const log = await emulator.callLog();
    if (values["dump-calls"] !== undefined) {
      const lines = log.map((c) => `${c.at - endsAt}\t${c.operation}\t${c.outcome}`);
      writeFileSync(`${values["dump-calls"]}.k${k}.tsv`, `${lines.join("\n")}\n`);
    }
    const deletes = log.filter(
      (c) =>
        c.operation === "DeleteAccountAssignment" &&
        c.outcome === "ok" &&
        !warmPrincipals.has(String(c.input.PrincipalId)),
    );
    // The emulator finishes a deletion EMULATED_AWS_MS after accepting it: that is when access is gone.
    const goneAt = deletes.map((c) => c.at + EMULATED_AWS_MS);
    const lastGone = Math.max(...goneAt, endsAt + 1);
    const lastConfirmed = Math.max(...attempts.map((a) => a.finishedAt.getTime()), endsAt + 1);
    const inPhase = (until: number) => log.filter((c) => c.at >= endsAt && c.at <= until && isQuotaCall(c));
    const phase = inPhase(lastGone);
    const byOperation: Record<string, number> = {};
    for (const call of inPhase(lastConfirmed)) {
      byOperation[call.operation] = (byOperation[call.operation] ?? 0) + 1;
    }
    const phaseMs = lastGone - endsAt;
    console.log(
      `  K=${k}: ${removed}/${k} removals confirmed; every lease-end job was in the queue ${Math.round(slackBeforeT)} ms before T`,
    );
    return {
      k,
      removed: Math.min(deletes.length, attempts.length),
      goneLagMs: summary(
        goneAt.map((at) => at - endsAt),
        k - deletes.length,
      ),
      confirmedLagMs: summary(
        attempts.map((a) => a.finishedAt.getTime() - endsAt),
        k - attempts.length,
      ),
      phaseMs,
      calls: phase.length,
      callsPerSecond: phase.length / (phaseMs / 1000),
      maxCallsInOneSecond: maxCallsInAnyWindow(phase, 1000),
      byOperation,
      throttled: log.filter((c) => c.outcome === "ThrottlingException").length,
      quotaExceeded: log.filter((c) => c.quotaExceeded).length,
    };
  } finally {
    await cleanUp();
  }
}

function isQuotaCall(call: CallRecord): boolean {
  return call.service === "sso-admin" || call.service === "identitystore";
}

const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : `> ${maxWaitMs / 1000}`);

const started = Date.now();
console.log(
  `revocation lag: K leases ending together; ${workerCount} worker process(es), limiter ${callsPerSecond} calls/s, emulator quota ${QUOTA_PER_SECOND}/s`,
);
const results: Result[] = [];
for (const k of ks) {
  results.push(await runOnce(k));
}
const rows: Array<{ metric: string; figure: string; target: string; met: boolean }> = [];
for (const r of results) {
  const targetP99 = r.k / QUOTA_PER_SECOND + 1;
  const share = (100 * r.callsPerSecond) / QUOTA_PER_SECOND;
  const lagMet = r.goneLagMs.p99 / 1000 <= targetP99 && r.removed === r.k;
  const noThrottle = r.throttled === 0 && r.quotaExceeded === 0;
  console.log(`
K = ${r.k}   (${r.removed}/${r.k} assignments removed)
  lag endsAt -> assignment gone in AWS:           p50 ${seconds(r.goneLagMs.p50)} s, p99 ${seconds(r.goneLagMs.p99)} s, max ${seconds(r.goneLagMs.max)} s
  lag endsAt -> removal confirmed by the worker:  p50 ${seconds(r.confirmedLagMs.p50)} s, p99 ${seconds(r.confirmedLagMs.p99)} s, max ${seconds(r.confirmedLagMs.max)} s
  removal phase (T to the last assignment gone) ${seconds(r.phaseMs)} s: ${r.calls} Identity Center calls = ${r.callsPerSecond.toFixed(2)} calls/s = ${share.toFixed(1)}% of the ${QUOTA_PER_SECOND}/s quota (most in any 1 s: ${r.maxCallsInOneSecond})
  calls by operation until the last confirmation: ${Object.entries(r.byOperation)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ${n}`)
    .join(", ")}
  throttling errors: ${r.throttled} ThrottlingException, ${r.quotaExceeded} calls over the quota
  targets: calls/s >= 90% of quota (${0.9 * QUOTA_PER_SECOND}/s): ${share >= 90 ? "MET" : "NOT MET"}; p99 <= K/20 + 1 = ${targetP99.toFixed(2)} s: ${lagMet ? "MET" : "NOT MET"}; no throttling: ${noThrottle ? "MET" : "NOT MET"}`);
  rows.push(
    {
      metric: `K=${r.k}: p99 lag endsAt -> gone (p50 ${seconds(r.goneLagMs.p50)} s; confirmed p99 ${seconds(r.confirmedLagMs.p99)} s)`,
      figure: `${seconds(r.goneLagMs.p99)} s`,
      target: `<= ${targetP99.toFixed(2)} s`,
      met: lagMet,
    },
    {
      metric: `K=${r.k}: Identity Center calls/s while removing`,
      figure: `${r.callsPerSecond.toFixed(2)}/s (${share.toFixed(1)}%)`,
      target: `>= ${0.9 * QUOTA_PER_SECOND}/s (90% of 20/s)`,
      met: share >= 90,
    },
    {
      metric: `K=${r.k}: throttling errors / calls over quota`,
      figure: `${r.throttled} / ${r.quotaExceeded}`,
      target: "0 / 0",
      met: noThrottle,
    },
  );
}
console.log(`\ntotal ${seconds(Date.now() - started)} s`);
console.log(`BENCH_RESULT ${JSON.stringify({ bench: "revocation-lag", rows })}`);
