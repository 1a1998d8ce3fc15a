import { randomUUID } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
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
// A dead worker's claim must outlive the creation it left in flight: the next worker then finds the
// assignment in AWS instead of asking for it a second time. 12 s: the claim was renewed at most a
// third of it before the kill, so it lapses 8-12 s after it, past the 6 s creation.
const CLAIM_TTL_S = 12;
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

const startWorker = () =>
  startChildWorker({ databaseUrl: database.url, emulator, prefix, claimTtlSeconds: CLAIM_TTL_S });

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
    first.signal("SIGKILL");
    const killed = await first.exited;
    expect(killed.signal).toBe("SIGKILL");

    // It died mid-wait: AWS is still creating, the request is still approved, and the claim and the
    // intent to create are the dead worker's.
    expect(
      emulator.snapshot().pendingOperations.filter((op) => op.principalId === principal),
      explain(first),
    ).toMatchObject([{ kind: "creation" }]);
    expect((await requestRow(requestId)).status).toBe("approved");
    const lease = await db.lease.findUniqueOrThrow({ where: { requestId }, include: { assignment: true } });
    expect(lease.assignment.claimedBy?.startsWith(first.owner)).toBe(true);
    expect(lease.assignment.provisionIntentAt).not.toBeNull();

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

    second.signal("SIGTERM");
    expect(await second.exited).toMatchObject({ code: 0, signal: null });
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
    const lease = await db.lease.findUniqueOrThrow({ where: { requestId }, include: { assignment: true } });
    // Its claim was released on the way out, not left to expire.
    expect(lease.assignment.claimedBy).toBeNull();
    expect(callsFor(emulator.callLog(), "CreateAccountAssignment", principal)).toHaveLength(1);
    expect(emulator.assignments().filter((a) => a.principalId === principal)).toHaveLength(1);
  }, 300_000);
});
