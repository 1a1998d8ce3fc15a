// Approval latency: an approver clicks Approve in Slack; how long until Keyturn has sent
// CreateAccountAssignment to AWS? Target p50 < 250 ms.
//
//   pnpm exec tsx bench/approval-latency/run.ts [--sequential 50] [--burst 20] [--gap-ms 200]
//
// The whole real path, each part in a process of its own as deployed: the Slack app
// (apps/slack/src/main.ts) receives a signed block action "approve" from the signed Slack client
// (packages/testkit), acks, runs the review use case (state + audit + outbox in one transaction);
// the worker (apps/worker/src/main.ts, deployed settings: concurrency 32, AWS limiter 18 calls/s)
// hears the outbox NOTIFY, relays the reconcile job through BullMQ and calls Identity Center: the
// AWS emulator (its own process, Identity Center's quotas on). The requests were submitted before,
// through the use case, by requesters Keyturn has not met in Identity Center yet (the worker looks
// each one up, as for a first request).
//
// Figure per approval: the emulator's call-log timestamp of CreateAccountAssignment for that
// requester (Date.now() in the emulator process, epoch ms) minus Date.now() in this process just
// before the click's HTTP request is sent: one machine, one clock. First `sequential` approvals
// one after the other (each waits for its request to be active, then a small gap), then a burst of
// `burst` clicks sent at once, which queue behind the shared 18 calls/s limiter.
import { randomUUID } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startEmulatorProcess } from "../../apps/worker/src/testing/emulator-process.js";
import { createPrismaClient, createUnitOfWork } from "../../packages/db/src/index.js";
import { ACTION_IDS, slackPrincipal } from "../../packages/slack/src/index.js";
import { testFlowRules } from "../../packages/testkit/src/flow-rules.js";
import type { CallRecord } from "../../packages/testkit/src/index.js";
import { createSlackClient, startSlackFake } from "../../packages/testkit/src/slack-fake/index.js";
import { type Deps, putFlow, submitRequest } from "../../packages/usecases/src/index.js";
import { startAppProcess, startDeployedWorker } from "../support/processes.js";
import { type BenchRow, printBenchResult, type Summary, summarize, summaryLine } from "../support/report.js";
import {
  cleanUp,
  createScratchDatabase,
  onCleanUp,
  REDIS_URL,
  scratchRedisPrefix,
  sleep,
} from "../support/scratch.js";

const TARGET_P50_MS = 250;
const ACCOUNT = "111122223333";
const CHANNEL = "C0APPROVALS";
const SECRET = "bench-signing-secret-0123456789abcdef";
const APPROVER = { id: "U0ANN", name: "ann", email: "ann@example.com" };
const slackMain = fileURLToPath(new URL("../../apps/slack/src/main.ts", import.meta.url));

const { values } = parseArgs({
  options: {
    sequential: { type: "string", default: "50" },
    burst: { type: "string", default: "20" },
    "warm-up": { type: "string", default: "5" },
    "gap-ms": { type: "string", default: "200" },
  },
});
const SEQUENTIAL = Number(values.sequential);
const BURST = Number(values.burst);
const WARM_UP = Number(values["warm-up"]);
const GAP_MS = Number(values["gap-ms"]);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

type Approval = {
  requestId: string;
  userName: string;
  principalId: string;
  clickedAt?: number;
  ackMs?: number;
  ackStatus?: number;
};

async function main(): Promise<BenchRow[]> {
  const loadAtStart = load();
  const total = WARM_UP + SEQUENTIAL + BURST;
  const database = await createScratchDatabase();
  const prefix = scratchRedisPrefix("approval");
  const db = createPrismaClient({ databaseUrl: database.url, maxConnections: 4 });
  onCleanUp("prisma", () => db.$disconnect());

  const emulator = await startEmulatorProcess({ quotas: true });
  onCleanUp("emulator", () => emulator.close());
  const requesters = Array.from({ length: total }, (_, i) => ({
    userName: `req${i}`,
    slackId: `U0REQ${String(i).padStart(4, "0")}`,
    email: `req${i}@example.com`,
  }));
  const seeded = await emulator.seed({
    accounts: [ACCOUNT],
    users: requesters.map((r) => ({ userName: r.userName, emails: [r.email] })),
    permissionSets: [{ name: "S3Access", sessionDuration: "PT1H" }],
  });

  const fake = await startSlackFake();
  onCleanUp("fake Slack", () => fake.close());
  fake.addUser(APPROVER);
  for (const r of requesters) {
    fake.addUser({ id: r.slackId, name: r.userName, email: r.email });
  }
  fake.addChannel({ id: CHANNEL, name: "access-approvals", members: [APPROVER.id] });

  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const usecases: Deps = { uow: createUnitOfWork(db, { clock, ids }), clock, ids };
  const flow = await putFlow(usecases, {
    name: "s3",
    by: { type: "system", id: "bench" },
    rules: testFlowRules({ approvers: [{ kind: "email", email: APPROVER.email }], approvalChannel: CHANNEL }),
  });
  if (!flow.ok) {
    throw new Error(flow.error.message);
  }
  const approvals: Approval[] = [];
  for (const r of requesters) {
    const submitted = await submitRequest(usecases, {
      flowName: "s3",
      requester: slackPrincipal(r.email, r.slackId, []),
      source: "slack",
      reason: "bench",
    });
    if (!submitted.ok) {
      throw new Error(submitted.error.message);
    }
    const principalId = seeded.users[r.userName];
    if (principalId === undefined) {
      throw new Error(`emulator has no user ${r.userName}`);
    }
    approvals.push({ requestId: submitted.value.id, userName: r.userName, principalId });
  }

  await startDeployedWorker({ databaseUrl: database.url, emulator, prefix });
  // The submissions' notifications and time-outs were relayed as the worker started; wait for them.
  await waitFor(
    async () =>
      (await db.outboxMessage.count({ where: { sentAt: null, availableAt: { lte: new Date() } } })) === 0,
    30_000,
    "the outbox to drain",
  );

  const slackApp = await startAppProcess({
    name: "slack",
    entry: slackMain,
    env: {
      DATABASE_URL: database.url,
      SLACK_MODE: "http",
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_API_URL: fake.url,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_PORT: "0",
      // HTTP mode keeps its memory of accepted Slack requests in Redis (shared by replicas).
      REDIS_URL,
      REDIS_PREFIX: prefix,
      AWS_ACCESS_PORTAL_URL: "https://d-1234567890.awsapps.com/start",
      AWS_SSO_REGION: emulator.region,
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
    },
    portOf: (record) =>
      typeof record.msg === "string" &&
      record.msg.startsWith("listening for Slack") &&
      typeof record.port === "number"
        ? record.port
        : undefined,
  });
  const slack = createSlackClient({
    appUrl: `http://127.0.0.1:${slackApp.port}`,
    signingSecret: SECRET,
    fake,
  });

  const click = async (approval: Approval, index: number) => {
    const responseUrl = fake.newResponseUrl({ kind: "actions", channelId: CHANNEL, userId: APPROVER.id });
    approval.clickedAt = Date.now();
    const delivery = await slack.blockAction({
      userId: APPROVER.id,
      actionId: ACTION_IDS.approve,
      channelId: CHANNEL,
      messageTs: `${Math.floor(approval.clickedAt / 1000)}.${String(index).padStart(6, "0")}`,
      value: approval.requestId,
      responseUrl,
    });
    approval.ackMs = delivery.latencyMs;
    approval.ackStatus = delivery.status;
  };
  const createdAt = async (batch: Approval[]): Promise<Map<string, CallRecord>> => {
    const wanted = new Set(batch.map((a) => a.principalId));
    const found = new Map<string, CallRecord>();
    await waitFor(
      async () => {
        for (const call of await emulator.callLog()) {
          const principal = call.input.PrincipalId;
          if (
            call.operation === "CreateAccountAssignment" &&
            typeof principal === "string" &&
            wanted.has(principal) &&
            !found.has(principal)
          ) {
            found.set(principal, call);
          }
        }
        return found.size === wanted.size;
      },
      60_000,
      `CreateAccountAssignment for ${wanted.size} requester(s)`,
    );
    return found;
  };
  const active = (batch: Approval[]) =>
    waitFor(
      async () =>
        (await db.accessRequest.count({
          where: { id: { in: batch.map((a) => a.requestId) }, status: "active" },
        })) === batch.length,
      60_000,
      "the requests to be active",
    );
  const latencies = async (batch: Approval[]): Promise<number[]> => {
    const calls = await createdAt(batch);
    return batch.map((a) => (calls.get(a.principalId)?.at ?? Number.NaN) - (a.clickedAt ?? Number.NaN));
  };

  const warmUp = approvals.slice(0, WARM_UP);
  const sequential = approvals.slice(WARM_UP, WARM_UP + SEQUENTIAL);
  const burst = approvals.slice(WARM_UP + SEQUENTIAL);
  // Warm-up (JIT, pools, the approver's identity pinned, the Identity Center instance looked up).
  for (const [i, approval] of warmUp.entries()) {
    await click(approval, i);
    await latencies([approval]);
    await active([approval]);
  }
  await emulator.clearCallLog();
  const sequentialMs: number[] = [];
  for (const [i, approval] of sequential.entries()) {
    await sleep(GAP_MS);
    await click(approval, WARM_UP + i);
    sequentialMs.push(...(await latencies([approval])));
    await active([approval]);
  }
  // Where the sequential time goes: nothing else calls AWS meanwhile, so every call between a click
  // and its CreateAccountAssignment serves that approval.
  const perApproval = await emulator.callLog();
  const toFirstCall: number[] = [];
  const firstCallToCreate: number[] = [];
  for (const approval of sequential) {
    const clickedAt = approval.clickedAt ?? Number.NaN;
    const create = perApproval.find(
      (c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === approval.principalId,
    );
    const first = perApproval.find((c) => c.at >= clickedAt && isQuotaCall(c));
    if (create !== undefined && first !== undefined) {
      toFirstCall.push(first.at - clickedAt);
      firstCallToCreate.push(create.at - first.at);
    }
  }
  await sleep(1000);
  await emulator.clearCallLog();
  await Promise.all(burst.map((approval, i) => click(approval, WARM_UP + SEQUENTIAL + i)));
  const burstMs = await latencies(burst);
  await active(burst);

  const badAcks = approvals.filter((a) => a.ackStatus !== 200).length;
  const seq = summarize(sequentialMs);
  const bur = summarize(burstMs);
  const acks = summarize([...sequential, ...burst].map((a) => a.ackMs ?? Number.NaN));
  const quotaCalls = perApproval.filter(isQuotaCall);
  const byOperation = new Map<string, number>();
  for (const call of quotaCalls) {
    byOperation.set(call.operation, (byOperation.get(call.operation) ?? 0) + 1);
  }
  console.log(
    `\napproval-latency (Slack click -> CreateAccountAssignment sent): Slack app, worker and AWS emulator as processes; ` +
      `Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAtStart} at start, ${load()} at end`,
  );
  console.log(summaryLine(`sequential (${SEQUENTIAL}, ${GAP_MS} ms apart)`, seq, 32));
  console.log(summaryLine(`burst (${BURST} at once)`, bur, 32));
  console.log(summaryLine("click ack (Slack's 3 s)", acks, 32));
  console.log(
    `Identity Center calls per sequential approval: ${[...byOperation.entries()]
      .map(([op, n]) => `${op} ${(n / SEQUENTIAL).toFixed(1)}`)
      .join(", ")}; non-200 acks: ${badAcks}`,
  );
  console.log(
    `sequential, median split: click -> first Identity Center call ${summarize(toFirstCall).p50.toFixed(0)} ms ` +
      `(Slack app commit, outbox NOTIFY, relay, BullMQ), first call -> CreateAccountAssignment ` +
      `${summarize(firstCallToCreate).p50.toFixed(0)} ms (calls before it, ${(1000 / 18).toFixed(0)} ms apart at 18 calls/s)`,
  );
  console.log(
    `sequential p50 ${seq.p50.toFixed(0)} ms (target < ${TARGET_P50_MS} ms): ${seq.p50 < TARGET_P50_MS ? "MET" : "NOT MET"}`,
  );
  if (badAcks > 0) {
    throw new Error(`${badAcks} clicks were not answered 200`);
  }
  const figure = (s: Summary) => `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms (n=${s.n})`;
  return [
    {
      metric: `Slack approve click -> CreateAccountAssignment sent, sequential`,
      figure: figure(seq),
      target: `p50 < ${TARGET_P50_MS} ms`,
      met: seq.p50 < TARGET_P50_MS,
    },
    {
      metric: `Slack approve click -> CreateAccountAssignment sent, burst of ${BURST} at once`,
      figure: figure(bur),
      target: "— (queues behind the 18 calls/s limiter)",
      met: null,
    },
  ];
}

function isQuotaCall(call: CallRecord): boolean {
  return call.service === "sso-admin" || call.service === "identitystore";
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    }
    await sleep(50);
  }
}

try {
  const rows = await main();
  await cleanUp();
  printBenchResult("approval-latency", rows);
} catch (error) {
  console.error(error);
  await cleanUp();
  process.exitCode = 1;
}
