import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@keyturn/usecases";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Handlers, JobContext, JobName, Payload } from "./catalog.js";
import { createRedisConnection } from "./connection.js";
import { createWorker, type JobOutcome, RunLater } from "./create-worker.js";
import { createProducer } from "./producer.js";
import { deferred, deleteKeys, eventLog, REDIS_URL, testPrefix } from "./test-helpers.js";

type Call = { name: JobName; payload: unknown; ctx: JobContext; at: number };

const reconcile = (cause: Payload<"assignment.reconcile">["cause"]): Payload<"assignment.reconcile"> => ({
  assignmentId: randomUUID(),
  requestId: randomUUID(),
  cause,
});

let admin: Redis;
const prefixes: string[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

afterAll(async () => {
  for (const prefix of prefixes) {
    await deleteKeys(admin, prefix);
    expect(await deleteKeys(admin, prefix)).toBe(0);
  }
  await admin.quit();
});

/**
 * A producer and a worker on a fresh prefix. Handlers not given record their call and succeed;
 * `calls` has every handler call in order, `outcomes` every job outcome.
 */
function setup(options: { handlers?: Partial<Handlers>; concurrency?: number; paused?: boolean } = {}) {
  const prefix = testPrefix();
  prefixes.push(prefix);
  const calls = eventLog<Call>();
  const outcomes = eventLog<JobOutcome>();
  const recorder =
    (name: JobName) =>
    async (payload: unknown, ctx: JobContext): Promise<void> => {
      calls.record({ name, payload, ctx, at: Date.now() });
    };
  const handlers: Handlers = {
    "assignment.reconcile": recorder("assignment.reconcile"),
    "identity.resolve": recorder("identity.resolve"),
    "request.notify": recorder("request.notify"),
    "request.time-out": recorder("request.time-out"),
    "sweep.leases": recorder("sweep.leases"),
    "sweep.drift": recorder("sweep.drift"),
    "cutoff.arm": recorder("cutoff.arm"),
    "bucket.apply": recorder("bucket.apply"),
    "request.on-call-check": recorder("request.on-call-check"),
    "sweep.tickets": recorder("sweep.tickets"),
    "signin.notify": recorder("signin.notify"),
    ...options.handlers,
  };
  const producerConnection = createRedisConnection(REDIS_URL, "producer");
  const workerConnection = createRedisConnection(REDIS_URL, "worker");
  const producer = createProducer({ connection: producerConnection, prefix });
  const worker = createWorker({
    connection: workerConnection,
    prefix,
    handlers,
    concurrency: options.concurrency ?? 1,
    onOutcome: outcomes.record,
    paused: options.paused ?? false,
  });
  // For inspecting jobs the way BullMQ stored them.
  const queue = new Queue("keyturn", { connection: admin, prefix });
  cleanups.push(
    () => producerConnection.quit(),
    () => workerConnection.quit(),
    () => producer.close(),
    () => worker.close(),
    () => queue.close(),
  );
  const completed = (jobId: string) => outcomes.next((o) => o.jobId === jobId && o.outcome === "completed");
  const failed = (jobId: string) => outcomes.next((o) => o.jobId === jobId && o.outcome === "failed");
  return { prefix, producer, worker, queue, calls, outcomes, completed, failed };
}

async function getJob(queue: Queue, jobId: string) {
  const job = await queue.getJob(jobId);
  if (job === undefined) {
    throw new Error(`job ${jobId} not found`);
  }
  return job;
}

describe("producer and worker against Redis", () => {
  it("runs the handler with the validated payload and a job context", async () => {
    const { producer, calls, completed } = setup();
    const payload = reconcile("approved");
    const now = new Date();
    const { jobId } = await producer.enqueue("assignment.reconcile", payload, {
      jobId: `reconcile:${randomUUID()}`,
      now,
    });
    // Outbox keys contain ':', which BullMQ refuses in ids; the producer escapes it reversibly.
    expect(jobId).toMatch(/^reconcile%3A[0-9a-f-]{36}$/);
    const outcome = await completed(jobId);
    expect(outcome).toMatchObject({ name: "assignment.reconcile", attempt: 1 });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    expect(calls.seen).toHaveLength(1);
    expect(calls.seen[0]?.payload).toEqual(payload);
    expect(calls.seen[0]?.ctx).toEqual({
      name: "assignment.reconcile",
      jobId,
      attempt: 1,
      maxAttempts: 10,
      enqueuedAt: now,
    });
  });

  it("refuses to enqueue a payload with a secret-shaped or unknown key, without echoing it", async () => {
    const { producer, queue } = setup({ paused: true });
    const withToken = { ...reconcile("approved"), token: "xoxb-very-secret" };
    const rejection = producer.enqueue("assignment.reconcile", withToken, {
      jobId: "leaky",
      now: new Date(),
    });
    await expect(rejection).rejects.toBeInstanceOf(AppError);
    await expect(rejection).rejects.toMatchObject({ code: "INVALID_JOB_PAYLOAD", retryable: false });
    await expect(rejection).rejects.toThrow(/token/);
    await expect(rejection).rejects.not.toThrow(/xoxb-very-secret/);
    expect(await queue.getJob("leaky")).toBeUndefined();
  });

  it("rejects an enqueue as retryable when Redis cannot be reached, instead of hanging", async () => {
    // Nothing listens on port 1.
    const connection = createRedisConnection("redis://127.0.0.1:1", "producer");
    connection.on("error", () => {});
    const producer = createProducer({ connection, prefix: testPrefix(), enqueueTimeoutMs: 300 });
    cleanups.push(
      async () => connection.disconnect(),
      () => producer.close(),
    );
    const enqueue = producer.enqueue("sweep.leases", {}, { jobId: "unreachable", now: new Date() });
    await expect(enqueue).rejects.toMatchObject({ code: "QUEUE_UNAVAILABLE", retryable: true });
  });

  it("enqueues untyped outbox data by topic name, and refuses names outside the catalog", async () => {
    const { producer, calls, completed } = setup();
    const message = JSON.parse(
      JSON.stringify({ requestId: randomUUID(), event: "RequestApproved", auditEventId: randomUUID() }),
    ) as unknown;
    const { jobId } = await producer.enqueueMessage("request.notify", message, {
      jobId: `notify:${randomUUID()}`,
      now: new Date(),
    });
    await completed(jobId);
    expect(calls.seen[0]?.payload).toEqual(message);
    await expect(
      producer.enqueueMessage("access.grant", {}, { jobId: "unknown-topic", now: new Date() }),
    ).rejects.toMatchObject({ code: "UNKNOWN_JOB", retryable: false });
  });

  it("runs a job once however often its id is enqueued, before or after it ran", async () => {
    const { producer, worker, calls, completed } = setup({ paused: true });
    const first = reconcile("approved");
    const id = `reconcile:${randomUUID()}`;
    const { jobId } = await producer.enqueue("assignment.reconcile", first, { jobId: id, now: new Date() });
    // Same id, other payload: ignored while the first job exists in any state.
    await producer.enqueue("assignment.reconcile", reconcile("released"), { jobId: id, now: new Date() });
    await worker.resume();
    await completed(jobId);
    // The completed job is kept (removeOnComplete), so its id still deduplicates.
    await producer.enqueue("assignment.reconcile", first, { jobId: id, now: new Date() });
    // Equal priority runs in order, so once a later sentinel has run a duplicate would have too.
    const sentinel = await producer.enqueue("assignment.reconcile", reconcile("approved"), {
      jobId: `sentinel-${randomUUID()}`,
      now: new Date(),
    });
    await completed(sentinel.jobId);
    const runsOfId = calls.seen.filter((call) => call.ctx.jobId === jobId);
    expect(runsOfId).toHaveLength(1);
    expect(runsOfId[0]?.payload).toEqual(first);
    expect(calls.seen).toHaveLength(2);
  });

  it("runs a delayed job at delayUntil, not before", async () => {
    const { producer, queue, calls, completed } = setup();
    const now = new Date();
    const delayUntil = new Date(now.getTime() + 1_200);
    const { jobId } = await producer.enqueue(
      "request.time-out",
      { requestId: randomUUID() },
      {
        jobId: `time-out-${randomUUID()}`,
        delayUntil,
        now,
      },
    );
    expect(await queue.getJobState(jobId)).toBe("delayed");
    await completed(jobId);
    const job = await getJob(queue, jobId);
    expect(job.timestamp).toBe(now.getTime());
    expect(job.opts.delay).toBe(1_200);
    expect(job.processedOn).toBeGreaterThanOrEqual(delayUntil.getTime());
    expect(job.processedOn).toBeLessThan(delayUntil.getTime() + 1_000);
    expect(calls.seen[0]?.at).toBeGreaterThanOrEqual(delayUntil.getTime());
  });

  it("runs a job whose delayUntil has passed at once", async () => {
    const { producer, queue, completed } = setup();
    const now = new Date();
    const { jobId } = await producer.enqueue(
      "request.time-out",
      { requestId: randomUUID() },
      {
        jobId: `time-out-${randomUUID()}`,
        delayUntil: new Date(now.getTime() - 60_000),
        now,
      },
    );
    await completed(jobId);
    expect((await getJob(queue, jobId)).opts.delay).toBe(0);
  });

  it("fails a job for good on a non-retryable AppError (one attempt)", async () => {
    const { producer, queue, outcomes, failed } = setup({
      handlers: {
        "assignment.reconcile": async () => {
          throw new AppError("PERMISSION_SET_NOT_FOUND", "no such permission set", { retryable: false });
        },
      },
    });
    const { jobId } = await producer.enqueue("assignment.reconcile", reconcile("approved"), {
      jobId: `reconcile-${randomUUID()}`,
      now: new Date(),
    });
    const outcome = await failed(jobId);
    expect(outcome).toMatchObject({ attempt: 1, error: { code: "PERMISSION_SET_NOT_FOUND" } });
    const job = await getJob(queue, jobId);
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.opts.attempts).toBe(10);
    expect(job.failedReason).toBe("PERMISSION_SET_NOT_FOUND: no such permission set");
    expect(outcomes.seen.filter((o) => o.jobId === jobId)).toHaveLength(1);
  });

  it("retries a retryable error after a backoff, then succeeds", async () => {
    let failedAt = 0;
    const { producer, queue, outcomes, completed } = setup({
      handlers: {
        "assignment.reconcile": async (_payload, ctx) => {
          if (ctx.attempt === 1) {
            failedAt = Date.now();
            throw new AppError("THROTTLED", "slow down", { retryable: true });
          }
        },
      },
    });
    const { jobId } = await producer.enqueue("assignment.reconcile", reconcile("lease_end"), {
      jobId: `reconcile-${randomUUID()}`,
      now: new Date(),
    });
    await completed(jobId);
    expect(outcomes.seen.filter((o) => o.jobId === jobId).map((o) => [o.outcome, o.attempt])).toEqual([
      ["retried", 1],
      ["completed", 2],
    ]);
    const job = await getJob(queue, jobId);
    expect(job.attemptsMade).toBe(2);
    // Catalog backoff: exponential from 1 s with 50% jitter, so the first retry waits 0.5-1 s.
    expect(job.processedOn).toBeGreaterThanOrEqual(failedAt + 500);
  });

  it("brings a job that asks to run later back after its delay, without using up an attempt", async () => {
    let deferredAt = 0;
    const runs: number[] = [];
    const { producer, queue, outcomes, completed } = setup({
      handlers: {
        "assignment.reconcile": async (_payload, ctx) => {
          runs.push(ctx.attempt);
          if (runs.length < 3) {
            deferredAt = Date.now();
            throw new RunLater(300, "AWS is still at it");
          }
        },
      },
    });
    const { jobId } = await producer.enqueue("assignment.reconcile", reconcile("lease_end"), {
      jobId: `reconcile-${randomUUID()}`,
      now: new Date(),
    });
    await completed(jobId);
    expect(runs).toEqual([1, 1, 1]);
    expect(outcomes.seen.filter((o) => o.jobId === jobId).map((o) => o.outcome)).toEqual(["completed"]);
    const job = await getJob(queue, jobId);
    expect(job.attemptsMade).toBe(1);
    expect(job.processedOn).toBeGreaterThanOrEqual(deferredAt + 300);
  });

  it("fails an invalid payload or an unknown job name for good, without calling a handler", async () => {
    const { queue, calls, failed } = setup();
    // Added around the producer, as an older version or a hand-made job could.
    const invalid = await queue.add(
      "assignment.reconcile",
      { assignmentId: "not-a-uuid", cause: "approved", token: "xoxb-1" },
      { jobId: `bad-${randomUUID()}`, attempts: 5 },
    );
    const unknown = await queue.add(
      "assignment.grant",
      {},
      { jobId: `unknown-${randomUUID()}`, attempts: 5 },
    );
    const invalidJobId = invalid.id ?? "";
    const unknownJobId = unknown.id ?? "";
    await failed(invalidJobId);
    await failed(unknownJobId);
    const invalidJob = await getJob(queue, invalidJobId);
    expect(invalidJob.attemptsMade).toBe(1);
    expect(invalidJob.failedReason).toMatch(/^INVALID_JOB_PAYLOAD: .*assignmentId.*token/);
    expect(invalidJob.failedReason).not.toContain("xoxb-1");
    const unknownJob = await getJob(queue, unknownJobId);
    expect(unknownJob.attemptsMade).toBe(1);
    expect(unknownJob.failedReason).toMatch(/^UNKNOWN_JOB/);
    expect(calls.seen).toEqual([]);
  });

  it("takes removals before notifications before creations, whatever the enqueue order", async () => {
    const { producer, worker, calls, completed } = setup({ paused: true, concurrency: 1 });
    const now = new Date();
    const creation = reconcile("approved");
    const removal = reconcile("lease_end");
    const first = await producer.enqueue("assignment.reconcile", creation, {
      jobId: `c-${randomUUID()}`,
      now,
    });
    await producer.enqueue(
      "request.notify",
      { requestId: randomUUID(), event: "RequestExpired", auditEventId: randomUUID() },
      { jobId: `n-${randomUUID()}`, now },
    );
    await producer.enqueue("assignment.reconcile", removal, { jobId: `r-${randomUUID()}`, now });
    await worker.resume();
    await completed(first.jobId);
    expect(calls.seen.map((call) => [call.name, (call.payload as { cause?: string }).cause])).toEqual([
      ["assignment.reconcile", "lease_end"],
      ["request.notify", undefined],
      ["assignment.reconcile", "approved"],
    ]);
  });

  it("close() waits for the job in progress to finish", async () => {
    const started = deferred();
    const release = deferred();
    const order: string[] = [];
    const { producer, worker, queue } = setup({
      handlers: {
        "sweep.leases": async () => {
          started.resolve();
          await release.promise;
          order.push("handler finished");
        },
      },
    });
    const { jobId } = await producer.enqueue(
      "sweep.leases",
      {},
      { jobId: `sweep-${randomUUID()}`, now: new Date() },
    );
    await started.promise;
    const closing = worker.close().then(() => {
      order.push("worker closed");
    });
    // Nothing to await for "has not closed yet": give a premature close the chance to show.
    await sleep(200);
    expect(order).toEqual([]);
    release.resolve();
    await closing;
    expect(order).toEqual(["handler finished", "worker closed"]);
    expect(await queue.getJobState(jobId)).toBe("completed");
  });
});
