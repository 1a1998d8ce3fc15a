import { randomUUID } from "node:crypto";
import { createAssignmentClaims, createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator, startSlackFake } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import type { Deps } from "@keyturn/usecases";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  approveRequest,
  auditActions,
  callsFor,
  flowRules,
  putTestFlow,
  useCaseDeps,
} from "./testing/access-world.js";
import { type ChildWorker, killChildWorkers, startChildWorker } from "./testing/child-worker.js";
import { clearPrefix, eventually } from "./worker-harness.js";

// Worker processes (src/main.ts, configured through the environment) killed and stopped the way an
// orchestrator does it, while a reconcile waits on AWS: the emulator keeps every assignment request
// IN_PROGRESS for 6 s, so a signal sent once CreateAccountAssignment is in the call log arrives
// while the worker polls its status (with seconds to spare on a machine whose cores are busy).
const CREATION_MS = 6_000;
// Bounds on waiting for a child process's work: they end a hung test, they do not judge speed.
const EVENT_WAIT_MS = 120_000;

const database = useTestDatabase();
const prefix = `kt-process-${randomUUID().slice(0, 8)}`;
let emulator: AwsEmulator;
let db: PrismaClient;
let deps: Deps;
let userIds: Record<string, string>;

beforeAll(async () => {
  emulator = await startAwsEmulator({ assignmentDelayMs: CREATION_MS });
  userIds = emulator.seed(standardSeed()).users;
  db = createPrismaClient({ databaseUrl: database.url });
  deps = useCaseDeps(db);
  await putTestFlow(deps, "s3", flowRules());
});

// A test that failed half-way must not leave a worker taking the next test's jobs.
afterEach(killChildWorkers);

afterAll(async () => {
  const redis = new Redis("redis://127.0.0.1:6379");
  await clearPrefix(redis, prefix);
  await redis.quit();
  await db?.$disconnect();
  await emulator?.close();
});

const startWorker = () => startChildWorker({ databaseUrl: database.url, emulator, prefix });

const requestRow = (id: string) => db.accessRequest.findUniqueOrThrow({ where: { id } });

function principalOf(userName: string): string {
  const id = userIds[userName];
  if (id === undefined) {
    throw new Error(`no seeded user ${userName}`);
  }
  return id;
}

const waitForCreateCall = (principalId: string) =>
  eventually(
    async () => callsFor(emulator.callLog(), "CreateAccountAssignment", principalId)[0],
    EVENT_WAIT_MS,
    10,
  );

/**
 * Reconcile jobs still to run, apart from lease ends (due in ten minutes) and the jobs a killed
 * worker was running (they stay active until BullMQ's stalled check, 30 s on, hands them out again).
 */
async function pendingReconciles(queue: Queue, killedAt: number): Promise<number> {
  const states = ["waiting", "prioritized", "delayed", "active"] as const;
  const jobs = (
    await Promise.all(states.map(async (state) => ({ state, jobs: await queue.getJobs([state]) })))
  )
    .flatMap(({ state, jobs: list }) => list.map((job) => ({ state, job })))
    .filter(({ job }) => job.name === "assignment.reconcile" && job.data.cause !== "lease_end");
  return jobs.filter(({ state, job }) => !(state === "active" && (job.processedOn ?? 0) <= killedAt)).length;
}

function explain(worker: ChildWorker): string {
  return `worker output:\n${worker.output().slice(-8_000)}`;
}

describe("worker processes", () => {
  it("SIGKILL during an assignment's creation: the next worker activates the request once, without a second create or any delete", async () => {
    const principal = principalOf("alice");
    const first = await startWorker();
    const requestId = await approveRequest(deps, { flowName: "s3", email: "alice@example.com" });
    await waitForCreateCall(principal);
    // Killed while it waits for AWS, after it saved AWS's request id (saved as AWS answered; the
    // instant before that is the lookup path, tested in reconcile.int.test.ts).
    const { assignmentId } = await db.lease.findUniqueOrThrow({ where: { requestId } });
    await eventually(
      async () => {
        const row = await db.assignment.findUniqueOrThrow({ where: { id: assignmentId } });
        return row.pendingRequestId !== null;
      },
      EVENT_WAIT_MS,
      10,
    );
    first.signal("SIGKILL");
    const killed = await first.exited;
    expect(killed.signal).toBe("SIGKILL");

    // It died mid-wait: AWS is still creating and the request is still approved, and the claim
    // died with the worker.
    const inFlight = emulator.snapshot().pendingOperations.filter((op) => op.principalId === principal);
    expect(inFlight, explain(first)).toMatchObject([{ kind: "creation" }]);
    expect((await requestRow(requestId)).status).toBe("approved");
    const lease = await db.lease.findUniqueOrThrow({ where: { requestId }, include: { assignment: true } });
    expect(lease.assignment).toMatchObject({
      pendingOperation: "create",
      pendingRequestId: inFlight[0]?.requestId,
    });
    expect(lease.assignment.provisionIntentAt).not.toBeNull();
    const claims = createAssignmentClaims({ databaseUrl: database.url });
    try {
      const claim = await claims.acquire(lease.assignmentId);
      expect(claim, "the dead worker's claim outlived it").not.toBeNull();
      await claim?.release();
    } finally {
      await claims.close();
    }

    const second = await startWorker();
    await eventually(async () => (await requestRow(requestId)).status === "active", EVENT_WAIT_MS).catch(
      (error: unknown) => {
        throw new Error(`request never became active\n${explain(second)}`, { cause: error });
      },
    );
    // Let everything that was queued for the assignment meanwhile (the sweep re-enqueued it every
    // second while the dead worker's claim blocked it) run out, so a late duplicate would show.
    const connection = new Redis("redis://127.0.0.1:6379");
    const queue = new Queue("keyturn", { connection, prefix });
    try {
      await eventually(async () => (await pendingReconciles(queue, killed.at)) === 0, EVENT_WAIT_MS, 200);
    } finally {
      await queue.close();
      await connection.quit();
    }

    const log = emulator.callLog();
    expect(callsFor(log, "CreateAccountAssignment", principal)).toHaveLength(1);
    expect(callsFor(log, "DeleteAccountAssignment", principal)).toEqual([]);
    expect(emulator.assignments().filter((a) => a.principalId === principal)).toHaveLength(1);
    const actions = await auditActions(db, requestId);
    expect(actions.filter((action) => action === "request.activated")).toHaveLength(1);
    expect(actions).toEqual(["request.submitted", "request.approved", "request.activated"]);
    // Access started when AWS accepted the create, before the kill, not when the next worker saw it.
    const active = await requestRow(requestId);
    const created = callsFor(log, "CreateAccountAssignment", principal)[0]?.at ?? 0;
    expect(active.activatedAt?.getTime()).toBeGreaterThanOrEqual(created - 1000);
    expect(active.activatedAt?.getTime()).toBeLessThanOrEqual(killed.at);
    // The outcome was asked by the saved id.
    const polls = log.filter(
      (c) =>
        c.operation === "DescribeAccountAssignmentCreationStatus" &&
        c.input.AccountAssignmentCreationRequestId === inFlight[0]?.requestId &&
        c.at > killed.at,
    );
    expect(polls.length).toBeGreaterThan(0);

    second.signal("SIGTERM");
    expect(await second.exited).toMatchObject({ code: 0, signal: null });
  }, 400_000);

  it("SIGKILL after the create of a grant shorter than the outage: the request is active then expired with AWS's times, the requester is told so, and the assignment goes on time", async () => {
    const slack = await startSlackFake();
    try {
      slack.addUser({ id: "U0CAROL", name: "carol", email: "carol@example.com" });
      const slackEnv = {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_API_URL: slack.url,
        AWS_ACCESS_PORTAL_URL: "https://d-0123456789.awsapps.com/start",
        AWS_SSO_REGION: emulator.region,
        SWEEP_INTERVAL_SECONDS: "2",
      };
      const principal = principalOf("carol");
      const first = await startChildWorker({ databaseUrl: database.url, emulator, prefix, env: slackEnv });
      // Five seconds of access: over before the worker that dies is replaced and AWS has finished.
      const requestId = await approveRequest(deps, {
        flowName: "s3",
        email: "carol@example.com",
        durationSeconds: 5,
      });
      const create = await waitForCreateCall(principal);
      first.signal("SIGKILL");
      await first.exited;
      const second = await startChildWorker({ databaseUrl: database.url, emulator, prefix, env: slackEnv });
      const restartedAt = Date.now();

      const done = await eventually(async () => {
        const row = await requestRow(requestId);
        return row.status === "expired" || row.status === "failed" ? row : undefined;
      }, EVENT_WAIT_MS).catch((error: unknown) => {
        throw new Error(`the request never ended\n${explain(second)}`, { cause: error });
      });
      // AWS held the assignment from its create: the request was active from then, and expired.
      expect(done.status, explain(second)).toBe("expired");
      expect(await auditActions(db, requestId)).toEqual([
        "request.submitted",
        "request.approved",
        "request.activated",
        "request.expired",
      ]);
      const activatedAt = done.activatedAt?.getTime() ?? 0;
      expect(activatedAt).toBeGreaterThanOrEqual(create.at - 1000);
      expect(activatedAt).toBeLessThan(restartedAt);
      // Five seconds from AWS's start, ending on the whole second.
      expect(done.expiresAt?.getTime()).toBe(Math.floor((activatedAt + 5000) / 1000) * 1000);
      // Removed as soon as a worker could, and not before the lease ended.
      const deletes = callsFor(emulator.callLog(), "DeleteAccountAssignment", principal);
      expect(deletes).toHaveLength(1);
      expect(deletes[0]?.at).toBeGreaterThanOrEqual(done.expiresAt?.getTime() ?? 0);
      expect(emulator.assignments().filter((a) => a.principalId === principal)).toEqual([]);
      expect(callsFor(emulator.callLog(), "CreateAccountAssignment", principal)).toHaveLength(1);
      expect(done.endedAt?.getTime()).toBeGreaterThanOrEqual(deletes[0]?.at ?? 0);
      // The requester heard the truth: active, then expired; never "could not be granted".
      const dm = slack.dmChannelId("U0CAROL");
      await eventually(async () =>
        slack
          .calls(
            (c) => (c.method === "chat.postMessage" || c.method === "chat.update") && c.args.channel === dm,
          )
          .some((c) => JSON.stringify(c.args).includes("has expired")),
      );
      const told = slack
        .calls(
          (c) => (c.method === "chat.postMessage" || c.method === "chat.update") && c.args.channel === dm,
        )
        .map((c) => JSON.stringify(c.args));
      expect(told.some((text) => text.includes("you have"))).toBe(true);
      expect(told.join("\n")).not.toContain("could not be granted");
      second.signal("SIGTERM");
      expect(await second.exited).toMatchObject({ code: 0, signal: null });
    } finally {
      await slack.close();
    }
  }, 400_000);

  it("SIGTERM during an assignment's creation: the job runs to its end, then the process exits 0", async () => {
    const principal = principalOf("bob");
    const worker = await startWorker();
    const requestId = await approveRequest(deps, { flowName: "s3", email: "bob@example.com" });
    const create = await waitForCreateCall(principal);
    const signalledAt = Date.now();
    worker.signal("SIGTERM");
    const exit = await worker.exited;
    expect(exit, explain(worker)).toMatchObject({ code: 0, signal: null });

    // The worker kept polling AWS after the signal until the creation ended, and activated the
    // request before it exited: nothing was left for another worker to pick up.
    expect(exit.at - create.at).toBeGreaterThanOrEqual(CREATION_MS);
    const polls = emulator
      .callLog()
      .filter((c) => c.operation === "DescribeAccountAssignmentCreationStatus" && c.at > signalledAt);
    expect(polls.length).toBeGreaterThan(0);
    const request = await requestRow(requestId);
    expect(request.status).toBe("active");
    expect(request.activatedAt?.getTime()).toBeLessThanOrEqual(exit.at);
    expect(callsFor(emulator.callLog(), "CreateAccountAssignment", principal)).toHaveLength(1);
    expect(emulator.assignments().filter((a) => a.principalId === principal)).toHaveLength(1);
  }, 300_000);
});
