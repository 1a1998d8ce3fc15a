import { AppError } from "@keyturn/usecases";
import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import {
  assertHandlers,
  type Handlers,
  isJobName,
  type JobContext,
  type JobName,
  jobCatalog,
  parsePayload,
  type QueueName,
} from "./catalog.js";
import { DEFAULT_PREFIX, validatePrefix } from "./connection.js";
import type { QueueLogger } from "./logger.js";

/**
 * How one attempt of a job ended, for metrics: `retried` means it failed and BullMQ scheduled
 * another attempt after its backoff; `failed` means it failed for good.
 */
export type JobOutcome = {
  name: string;
  jobId: string;
  outcome: "completed" | "failed" | "retried";
  /** The attempt that just ended, 1 for the first. */
  attempt: number;
  /** From the start of this attempt to its end, as the worker saw it. */
  durationMs: number;
  error?: { code: string | undefined; message: string };
};

export type WorkerOptions = {
  /** A `createRedisConnection(url, "worker")` connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  prefix?: string;
  handlers: Handlers;
  /** Jobs run at once by this process, per queue. */
  concurrency: number;
  logger?: QueueLogger;
  onOutcome?: (outcome: JobOutcome) => void;
  /** Start without taking jobs; `resume()` starts. */
  paused?: boolean;
};

export type QueueWorker = {
  /**
   * Stops taking jobs and resolves once the jobs in progress have finished (call on SIGTERM). A
   * job cut short anyway (SIGKILL) loses its lock and is retried by another worker once BullMQ's
   * stalled check notices (within ~9 s, see STALLED_JOBS), which handlers' idempotency makes safe.
   */
  close(): Promise<void>;
  /**
   * Stops taking jobs once the running ones finish. An idle worker that is already blocked waiting
   * for a job may still take the first one that arrives; start with `paused: true` for exactness.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
};

/**
 * Thrown by a handler whose work is under way elsewhere (AWS carrying out a request) and that must
 * look again later: the same job comes back after `delayMs`, without holding a worker meanwhile
 * and without using up one of its attempts.
 */
export class RunLater extends Error {
  readonly delayMs: number;
  constructor(delayMs: number, reason: string) {
    super(reason);
    this.name = "RunLater";
    this.delayMs = delayMs;
  }
}

/**
 * The one place where a handler's error becomes a BullMQ outcome (house style: each edge translates
 * once): an `AppError` that says retrying cannot help fails the job for good; anything else is
 * rethrown for the catalog's backoff.
 */
export function toWorkerError(error: unknown): Error {
  if (error instanceof AppError && !error.retryable) {
    const unrecoverable = new UnrecoverableError(`${error.code}: ${error.message}`);
    unrecoverable.cause = error;
    return unrecoverable;
  }
  if (error instanceof Error) {
    return error;
  }
  return new Error(`Non-error thrown: ${String(error)}`);
}

async function runJob<K extends JobName>(
  name: K,
  job: Job,
  token: string | undefined,
  handlers: Handlers,
): Promise<void> {
  const parsed = parsePayload(name, job.data);
  if (!parsed.ok) {
    // Retrying cannot fix a payload; it was enqueued around the producer or by an older version.
    throw new UnrecoverableError(`INVALID_JOB_PAYLOAD: ${parsed.issues}`);
  }
  const ctx: JobContext = {
    name,
    jobId: job.id ?? "",
    attempt: job.attemptsMade + 1,
    maxAttempts: job.opts.attempts ?? 1,
    enqueuedAt: new Date(job.timestamp),
  };
  const handler: Handlers[K] = handlers[name];
  try {
    await handler(parsed.payload, ctx);
  } catch (error) {
    if (error instanceof RunLater) {
      await job.moveToDelayed(Date.now() + error.delayMs, token);
      throw new DelayedError(error.message);
    }
    throw toWorkerError(error);
  }
}

/**
 * A job whose worker died stays "active" until its lock lapses and a stalled check hands it out
 * again: with BullMQ's defaults (a 30 s lock, a check every 30 s) a killed worker held its jobs —
 * an ended lease's removal among them — for up to a minute. Here it is at most ~9 s. A live worker
 * renews its locks every 3 s; one starved of CPU for longer may see a job run twice, which every
 * handler's idempotency (and the reconciler's per-assignment claim) makes safe, so a job may stall
 * several times before BullMQ gives up on it (and the sweeps find its work anyway).
 */
const STALLED_JOBS = { lockDuration: 6_000, stalledInterval: 3_000, maxStalledCount: 10 } as const;

function errorCode(error: Error): string | undefined {
  if (error instanceof AppError) {
    return error.code;
  }
  return error.cause instanceof AppError ? error.cause.code : undefined;
}

/**
 * A BullMQ worker per catalog queue whose processor validates each payload with its schema and runs
 * its handler. Several processes may run workers on the same queues: BullMQ hands each job to one.
 */
export function createWorker(options: WorkerOptions): QueueWorker {
  assertHandlers(options.handlers);
  const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  const { handlers, logger, onOutcome } = options;

  const report = (outcome: JobOutcome): void => {
    if (onOutcome === undefined) {
      return;
    }
    try {
      onOutcome(outcome);
    } catch (error) {
      // A broken metrics hook must not fail jobs or stop the worker.
      logger?.error({ err: error }, "job outcome hook threw");
    }
  };

  const queueNames = new Set<QueueName>(Object.values(jobCatalog).map((entry) => entry.queue));

  const workers = [...queueNames].map((queueName) => {
    const worker = new Worker(
      queueName,
      async (job: Job, token?: string) => {
        const name = job.name;
        if (!isJobName(name) || jobCatalog[name].queue !== queueName) {
          throw new UnrecoverableError(`UNKNOWN_JOB: no job named ${name} on queue ${queueName}`);
        }
        await runJob(name, job, token, handlers);
      },
      {
        connection: options.connection,
        prefix,
        concurrency: options.concurrency,
        autorun: options.paused !== true,
        ...STALLED_JOBS,
      },
    );

    worker.on("completed", (job) => {
      report({
        name: job.name,
        jobId: job.id ?? "",
        outcome: "completed",
        attempt: job.attemptsMade,
        durationMs: Date.now() - (job.processedOn ?? Date.now()),
      });
    });

    worker.on("failed", (job, error) => {
      if (job === undefined) {
        // A job that stalled too often and was already removed by removeOnFail.
        logger?.error({ err: error, queue: queueName }, "job failed and was removed");
        return;
      }
      const unrecoverable = error instanceof UnrecoverableError || error.name === "UnrecoverableError";
      // Mirrors BullMQ's own retry decision; `attemptsMade` already counts the attempt that ended.
      const retried = !unrecoverable && job.attemptsMade < (job.opts.attempts ?? 1);
      const fields = {
        job: job.name,
        jobId: job.id,
        attempt: job.attemptsMade,
        code: errorCode(error),
        err: error,
      };
      if (retried) {
        logger?.warn(fields, "job attempt failed; retrying after backoff");
      } else {
        logger?.error(fields, "job failed for good");
      }
      report({
        name: job.name,
        jobId: job.id ?? "",
        outcome: retried ? "retried" : "failed",
        attempt: job.attemptsMade,
        durationMs: Date.now() - (job.processedOn ?? Date.now()),
        error: { code: errorCode(error), message: error.message },
      });
    });

    // Without a listener an `error` event would throw and take the process down; BullMQ emits them
    // for connection trouble it then recovers from.
    worker.on("error", (error) => {
      logger?.error({ err: error, queue: queueName }, "queue worker error");
    });
    return worker;
  });

  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
    async pause() {
      await Promise.all(workers.map((worker) => worker.pause()));
    },
    async resume() {
      await Promise.all(workers.map((worker) => worker.resume()));
    },
  };
}
