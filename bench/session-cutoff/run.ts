// Session cut-off: K leases end at the same instant T on one protected bucket; how long until each
// ended user's live session is refused by S3?
//
//   pnpm exec tsx bench/session-cutoff/run.ts [--k 300] [--overflow true] [--workers 2]
//
// For each run: a database of its own (migrated), a Redis prefix of its own, the AWS emulator in a
// process of its own with Identity Center's quotas ON, and worker processes running src/main.ts as
// deployed (32 jobs each, sweep every 30 s, 18 Identity Center calls/s), pointed at the emulator.
//
// Set up, not measured: K users granted S3Access (as in bench/revocation-lag: requests approved
// and activated through the use cases, the grants taken as done), the bucket protected and its
// policy applied, and one live session per user from the SSO portal (real client-sso), each
// checked to read. The leases are then rescheduled to end at T, with the "cutoff.arm" outbox
// messages that leases ending at one instant share, as activation writes them: the pre-arm at
// T - PREARM_LEAD_MS (at once here, T being nearer than the lead) and the arm at T. Four warm-up
// leases end 4 s before T so the workers have run the cut-off path once, as long-running workers
// have. The pre-armed policy lands before T; S3 refuses from T by its own clock.
//
// Measured, from T: every session is polled with GetObject (real S3 client, 8 at a time) until
// S3 refuses it; its lag is the moment the refusal came back minus T, so it includes the polling
// round (an upper bound). The PutBucketPolicy calls come from the emulator's call log.
// Run twice: K = 300, and K = twice the bucket's cut-off capacity (the overflow path).
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startEmulatorProcess } from "../../apps/worker/src/testing/emulator-process.js";
import { type LiveSession, openSession, tryRead } from "../../apps/worker/src/testing/live-sessions.js";
import { createBucketPolicyStore } from "../../packages/aws/src/index.js";
import { sessionCutoffCapacity } from "../../packages/bucket-policy/src/index.js";
import {
  createBucketPolicyUnitOfWork,
  createPrismaClient,
  createUnitOfWork,
  type PrismaClient,
} from "../../packages/db/src/index.js";
import { keyturnCaller } from "../../packages/testkit/src/aws-emulator/test-helpers.js";
import { testFlowRules } from "../../packages/testkit/src/flow-rules.js";
import { maxCallsInAnyWindow } from "../../packages/testkit/src/index.js";
import {
  applyBucketPolicy,
  type BucketPolicyS3Deps,
  type Deps,
  PREARM_LEAD_MS,
  putFlow,
  putProtectedBucket,
} from "../../packages/usecases/src/index.js";
import { grantActiveLeases, inParallel } from "../support/grants.js";
import { startDeployedWorker } from "../support/processes.js";
import { type BenchRow, printBenchResult, summarize } from "../support/report.js";
import { cleanUp, createScratchDatabase, onCleanUp, scratchRedisPrefix, sleep } from "../support/scratch.js";

const ACCOUNT = "111122223333";
const BUCKET = "cutoff-bench";
const KEY = "data.csv";
// The access key every child worker signs with (apps/worker/src/testing/child-worker.ts).
const KEYTURN_KEY = "AKIAKEYTURNEXAMPLE01";
const KEYTURN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const WARM_UP = 4;
// Polls at a time: the emulator is one process, and a flood of reads queued ahead of Keyturn's
// PutBucketPolicy would delay the very thing measured.
const POLL_WIDTH = 8;
const MAX_WAIT_MS = 30_000;

const SPEC = {
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN_ROLE }, { roleArn: KEYTURN_ROLE }],
    "read-config": [{ roleArn: ADMIN_ROLE }, { roleArn: KEYTURN_ROLE }],
    "read-data": [{ permissionSet: "S3Access" }],
    "write-data": [{ permissionSet: "S3Access" }],
    "delete-data": [{ permissionSet: "S3Access" }],
  },
};

const { values } = parseArgs({
  options: {
    k: { type: "string", default: "300" },
    overflow: { type: "string", default: "true" },
    workers: { type: "string", default: "2" },
  },
});
const baseK = Number.parseInt(values.k ?? "300", 10);
const workerCount = Number.parseInt(values.workers ?? "2", 10);
const capacity = sessionCutoffCapacity({ bucket: BUCKET, ...SPEC });

type Run = {
  k: number;
  /**
   * From T to the PutBucketPolicy that carried the cut-offs: the pre-armed policy's (negative:
   * before T), or, if none landed before T, the first one after the cut-offs were armed.
   */
  landedMs: number;
  /** Cut-offs the last policy applied before T carried pre-armed. */
  prearmed: number;
  /** One polling round over every session, before T: the measurement's own resolution. */
  roundMs: number;
  /** From T to the sending of the latest read S3 let through (negative: none after T). */
  lastReadMs: number;
  refused: number;
  lagMs: ReturnType<typeof summarize>;
  maxPutsInOneSecond: number;
  puts: number;
  roleWide: boolean;
};

async function runOnce(k: number): Promise<Run> {
  const database = await createScratchDatabase();
  const prefix = scratchRedisPrefix("cutoff");
  const emulator = await startEmulatorProcess({ quotas: true });
  onCleanUp("emulator", () => emulator.close());
  const db: PrismaClient = createPrismaClient({ databaseUrl: database.url, maxConnections: 16 });
  onCleanUp("bench database connections", () => db.$disconnect());

  const users = Array.from({ length: k + WARM_UP }, (_, i) => ({
    userName: i < k ? `ended${i}` : `warm${i - k}`,
    emails: [i < k ? `ended${i}@example.com` : `warm${i - k}@example.com`],
  }));
  const seeded = await emulator.seed({
    accounts: [ACCOUNT],
    users,
    permissionSets: [{ name: "S3Access", sessionDuration: "PT1H" }],
    callers: [keyturnCaller(KEYTURN_KEY, KEYTURN_ROLE, [BUCKET])],
    // Protected buckets encrypt with SSE-KMS by default: the first apply checks it.
    buckets: [
      {
        name: BUCKET,
        accountId: ACCOUNT,
        encryption: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/data" },
        objects: { [KEY]: "revenue,42" },
      },
    ],
  });

  const clock = { now: () => new Date() };
  const ids = { uuid: () => crypto.randomUUID() };
  const deps: Deps = { uow: createUnitOfWork(db, { clock, ids }), clock, ids };
  const store = createBucketPolicyStore({
    region: emulator.region,
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: KEYTURN_KEY, secretAccessKey: "x" },
  });
  onCleanUp("S3 store", async () => store.close());
  const buckets: BucketPolicyS3Deps = {
    uow: createBucketPolicyUnitOfWork(db, { clock, ids }),
    clock,
    store,
  };
  const system = { type: "system", id: "bench" } as const;
  if (!(await putFlow(deps, { name: "s3", by: system, rules: testFlowRules() })).ok) {
    throw new Error("flow");
  }
  if (!(await putProtectedBucket(buckets, { name: BUCKET, spec: SPEC, by: system })).ok) {
    throw new Error("protect");
  }
  if (!(await applyBucketPolicy(buckets, { name: BUCKET, by: system, reason: "bench" })).ok) {
    throw new Error("apply");
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
    durationSeconds: 3600,
  });

  // One live session per ended user, each reading before T.
  const sessions: LiveSession[] = await inParallel(users.slice(0, k), 16, (user) =>
    openSession(emulator, { userName: user.userName, accountId: ACCOUNT, roleName: "S3Access" }),
  );
  onCleanUp("sessions", async () => {
    for (const session of sessions) {
      session.destroy();
    }
  });
  const roundStart = Date.now();
  const before = await inParallel(sessions, POLL_WIDTH, (session) => tryRead(session, BUCKET, KEY));
  // One polling round over every session: with the cut-off in force from T by S3's own clock, the
  // polled lag is bounded by this (a session read just before T is polled again a round later).
  const roundMs = Date.now() - roundStart;
  if (before.some((outcome) => outcome !== "read")) {
    throw new Error(`not every session reads before T: ${[...new Set(before)].join(", ")}`);
  }

  // T: leases, requests and their messages rescheduled; the instant's one cut-off message.
  // On a whole second, as every lease end is (core's activation rounds it down to the second).
  const endsAt = Math.ceil((Date.now() + 12_000 + k * 10) / 1000) * 1000;
  const at = new Date(endsAt);
  const warmAt = new Date(endsAt - 4_000);
  const warmEmails = users.slice(k).map((user) => user.emails[0] ?? "");
  await db.lease.updateMany({ data: { endsAt: at } });
  await db.accessRequest.updateMany({ data: { expiresAt: at } });
  await db.outboxMessage.updateMany({
    where: { sentAt: null, topic: "assignment.reconcile" },
    data: { availableAt: at },
  });
  const warm = await db.accessRequest.findMany({
    where: { requester: { email: { in: warmEmails } } },
    select: { id: true },
  });
  for (const request of warm) {
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
  await db.outboxMessage.deleteMany({ where: { sentAt: null, topic: "cutoff.arm" } });
  for (const instant of [warmAt, at]) {
    const prearmAt = instant.getTime() - PREARM_LEAD_MS;
    for (const [key, availableAt] of [
      [`cutoff-prearm-at:${prearmAt}`, new Date(Math.max(Date.now(), prearmAt))],
      [`cutoff-at:${instant.getTime()}`, instant],
    ] as const) {
      await db.outboxMessage.create({
        data: {
          id: crypto.randomUUID(),
          topic: "cutoff.arm",
          key,
          payload: {},
          createdAt: new Date(),
          availableAt,
        },
      });
    }
  }

  for (let i = 0; i < workerCount; i++) {
    await startDeployedWorker({ databaseUrl: database.url, emulator, prefix });
  }
  // Warmed up: the warm-up cut-offs are in the policy.
  while (Date.now() < endsAt - 500) {
    const armed = await db.sessionCutoff.count({ where: { removedAt: null } });
    const bucket = await db.protectedBucket.findUniqueOrThrow({ where: { name: BUCKET } });
    if (armed >= WARM_UP && bucket.dirtySince === null) {
      break;
    }
    await sleep(100);
  }
  await sleep(Math.max(0, endsAt - Date.now()));

  // From T: poll every session until S3 refuses it.
  const refusedAt = new Array<number | undefined>(k).fill(undefined);
  // The latest read S3 still let through after T (when it was sent): with the cut-off in force
  // from T (a whole second) by S3's clock, the rest of a lag is the polling, not the cut-off.
  let lastReadSentAt = Number.NEGATIVE_INFINITY;
  while (Date.now() < endsAt + MAX_WAIT_MS) {
    const pending = refusedAt.flatMap((value, index) => (value === undefined ? [index] : []));
    if (pending.length === 0) {
      break;
    }
    await inParallel(pending, POLL_WIDTH, async (index) => {
      const session = sessions[index];
      if (session === undefined) {
        return;
      }
      const sentAt = Date.now();
      const outcome = await tryRead(session, BUCKET, KEY);
      if (outcome === "refused") {
        refusedAt[index] = Date.now();
      } else if (outcome === "read") {
        lastReadSentAt = Math.max(lastReadSentAt, sentAt);
      }
    });
  }
  const lags = refusedAt.flatMap((value) => (value === undefined ? [] : [value - endsAt]));
  const missing = k - lags.length;
  const log = await emulator.callLog();
  const puts = log.filter((call) => call.operation === "PutBucketPolicy" && call.input.bucket === BUCKET);
  const bucket = await db.protectedBucket.findUniqueOrThrow({ where: { name: BUCKET } });
  // Where the time went: arming and pre-arming (the audit events' instants), then each put, from T.
  const armed = await db.auditEvent.findMany({
    where: {
      action: { in: ["session_cutoff.added", "session_cutoff.updated"] },
      at: { gte: new Date(endsAt - 20_000) },
    },
    select: { at: true, action: true },
  });
  const fromT = (instant: number) => `${((instant - endsAt) / 1000).toFixed(2)} s`;
  console.log(
    `  K=${k}: cut-offs written at ${armed.map((event) => `${fromT(event.at.getTime())} (${event.action.split(".")[1]})`).join(", ")}; PutBucketPolicy at ${puts
      .filter((call) => call.at >= endsAt - 20_000)
      .map((call) => fromT(call.at))
      .join(", ")}`,
  );
  const applied = await db.auditEvent.findMany({
    where: { action: "bucket_policy.applied", at: { lt: at } },
    orderBy: { seq: "desc" },
    take: 1,
    select: { data: true },
  });
  const prearmed = (applied[0]?.data as { cutoffLayout?: { prearmed?: number } } | undefined)?.cutoffLayout
    ?.prearmed;
  const lastBefore = puts.filter((call) => call.at < endsAt).at(-1);
  const armedAt = Math.min(
    ...armed.map((event) => event.at.getTime()).filter((instant) => instant >= endsAt),
  );
  const landed = (prearmed ?? 0) >= k ? lastBefore : puts.find((call) => call.at >= armedAt);
  const run: Run = {
    k,
    landedMs: landed === undefined ? Number.POSITIVE_INFINITY : landed.at - endsAt,
    prearmed: prearmed ?? 0,
    roundMs,
    lastReadMs: lastReadSentAt - endsAt,
    refused: lags.length,
    lagMs: summarize([...lags, ...new Array<number>(missing).fill(Number.POSITIVE_INFINITY)]),
    maxPutsInOneSecond: maxCallsInAnyWindow(puts, 1000, () => true),
    puts: puts.filter((call) => call.at >= endsAt - 5_000).length,
    roleWide: bucket.cutoffsRoleWide > 0,
  };
  await cleanUp();
  return run;
}

const load = loadavg()
  .map((value) => value.toFixed(2))
  .join(" ");
const shared = `${availableParallelism()} CPUs shared with other work, load ${load}`;
console.log(
  `session cut-off: ${workerCount} worker process(es); capacity of this bucket's policy: ${capacity} cut-offs (${shared})`,
);
const runs: Run[] = [await runOnce(baseK)];
if (values.overflow !== "false") {
  runs.push(await runOnce(2 * capacity));
}
const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : `> ${MAX_WAIT_MS / 1000}`);
const rows: BenchRow[] = [
  {
    metric: `capacity: cut-offs that fit one bucket's policy listed by user (47-char user ids, this spec)`,
    figure: String(capacity),
    target: "—",
    met: null,
  },
];
for (const run of runs) {
  const overflow = run.k > capacity;
  console.log(`
K = ${run.k}${overflow ? " (twice the capacity: the overflow path)" : ""}: ${run.refused}/${run.k} sessions refused
  cut-offs pre-armed in the policy in force at T: ${run.prearmed}
  one polling round over the ${run.k} sessions (before T, ${POLL_WIDTH} at a time): ${seconds(run.roundMs)} s
  the latest read S3 let through after T was sent at: ${Number.isFinite(run.lastReadMs) ? `${seconds(run.lastReadMs)} s` : "none"}
  endsAt -> the PutBucketPolicy carrying the cut-offs: ${seconds(run.landedMs)} s (negative: before T)
  lag endsAt -> live session refused by S3 (polled, so an upper bound): p50 ${seconds(run.lagMs.p50)} s, p99 ${seconds(run.lagMs.p99)} s, max ${seconds(run.lagMs.max)} s
  PutBucketPolicy from T-5 s: ${run.puts}, most in any 1 s: ${run.maxPutsInOneSecond}; folded role-wide at the end: ${run.roleWide}`);
  const putsMet = run.maxPutsInOneSecond <= 1;
  if (overflow) {
    rows.push({
      metric: `K=${run.k} (2x capacity) ending together: slowest ended session refused (p50 ${seconds(run.lagMs.p50)} s; policy put at ${seconds(run.landedMs)} s; ${shared})`,
      figure: `${seconds(run.lagMs.max)} s`,
      target: "<= 5.00 s",
      met: run.refused === run.k && run.lagMs.max <= 5000,
    });
  } else {
    rows.push({
      metric: `K=${run.k} ending in one second: p99 endsAt -> live session refused (p50 ${seconds(run.lagMs.p50)} s; policy put at ${seconds(run.landedMs)} s, ${run.prearmed} pre-armed; a polling round ${seconds(run.roundMs)} s; ${shared})`,
      figure: `${seconds(run.lagMs.p99)} s`,
      target: "<= 2.00 s",
      met: run.refused === run.k && run.lagMs.p99 <= 2000,
    });
  }
  rows.push({
    metric: `K=${run.k}: most PutBucketPolicy to the bucket in any 1 s`,
    figure: String(run.maxPutsInOneSecond),
    target: "<= 1",
    met: putsMet,
  });
}
printBenchResult("session-cutoff", rows);
process.exit(0);
