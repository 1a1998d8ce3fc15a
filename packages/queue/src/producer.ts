import { AppError } from "@keyturn/usecases";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  isJobName,
  type JobName,
  jobCatalog,
  type Payload,
  parsePayload,
  priorityOf,
  type QueueName,
} from "./catalog.js";
import { DEFAULT_PREFIX, validatePrefix } from "./connection.js";
import type { QueueLogger } from "./logger.js";

export type EnqueueOptions = {
  /**
   * Identifies the trigger, not the target: an outbox message key (`reconcile:<auditEventId>`), or
   * `<what>:<key>:<instant>` for scheduled work. See `enqueue` for what a repeated id does.
   */
  jobId: string;
  /** Not before this instant; in the past or absent means now. */
  delayUntil?: Date;
  /** The caller's clock: the delay is `delayUntil - now`, and `now` is the job's enqueue time. */
  now: Date;
};

export type Producer = {
  /**
   * Validates the payload against the catalog and adds the job with its catalog options and
   * priority. Resolves with the BullMQ job id used.
   *
   * Deduplication by `jobId`: BullMQ keeps a job's hash under its id until the job is removed, and
   * an add whose id already exists — waiting, delayed, prioritized, active, completed or failed —
   * changes nothing (the first add's payload, delay and priority stay) and resolves as if it had
   * added. So:
   * - a relay that re-sends a message (it crashed before marking the row sent) enqueues nothing new;
   * - completed jobs are kept `removeOnComplete` long (catalog: 24 h, at most 20k per queue) and
   *   failed ones `removeOnFail` long (7 days): within that window the same id is ignored even
   *   though the job already ran; after eviction (by age, or earlier by count under load) the same
   *   id runs again, which is why every handler is idempotent;
   * - to run something again on purpose (a retry after failure, a new lease end) use a new id;
   *   rescheduling never moves an existing job: the stale one fires and finds nothing to do.
   */
  enqueue<K extends JobName>(
    name: K,
    payload: Payload<K>,
    options: EnqueueOptions,
  ): Promise<{ jobId: string }>;
  /**
   * `enqueue` for callers holding untyped data, such as the outbox relay (topic + JSON payload): the
   * name is checked against the catalog too. An `AppError` with `retryable: false` (unknown name,
   * invalid payload or id) means this message can never be enqueued; anything else is worth a retry.
   */
  enqueueMessage(name: string, payload: unknown, options: EnqueueOptions): Promise<{ jobId: string }>;
  /** Closes the queues; the Redis connection stays open (the caller owns it). */
  close(): Promise<void>;
};

export type ProducerOptions = {
  /** A `createRedisConnection(url, "producer")` connection: enqueue fails fast when Redis is down. */
  connection: Redis;
  prefix?: string;
  /**
   * Default 5 s. An enqueue that has not settled by then rejects as retryable: until the connection
   * is first established BullMQ waits for it rather than failing. The add may still land later,
   * which is harmless: the caller's retry carries the same job id.
   */
  enqueueTimeoutMs?: number;
  logger?: QueueLogger;
};

/**
 * BullMQ refuses ids that are integers (they collide with its own counter) and ids containing `:`
 * (its key separator) unless shaped like a legacy repeat key. Outbox keys contain `:`, so it is
 * escaped reversibly: `%` -> `%25` first, then `:` -> `%3A`, so two different ids never map to one.
 */
export function toBullJobId(jobId: string): string {
  if (jobId.length === 0 || jobId.length > 256) {
    throw new AppError("INVALID_JOB_ID", "A job id must be 1-256 characters", { retryable: false });
  }
  if (/^\d+$/.test(jobId)) {
    throw new AppError("INVALID_JOB_ID", "A job id must not be an integer", { retryable: false });
  }
  return jobId.replaceAll("%", "%25").replaceAll(":", "%3A");
}

export function createProducer(options: ProducerOptions): Producer {
  const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 5_000;
  const queues = new Map<QueueName, Queue>();
  const queueFor = (name: QueueName): Queue => {
    let queue = queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: options.connection, prefix });
      // Without a listener an `error` event would throw; the failed add itself is what we report.
      queue.on("error", (error) => {
        options.logger?.warn({ err: error, queue: name }, "queue connection error");
      });
      queues.set(name, queue);
    }
    return queue;
  };

  const add = async <K extends JobName>(
    name: K,
    payload: unknown,
    { jobId, delayUntil, now }: EnqueueOptions,
  ): Promise<{ jobId: string }> => {
    const parsed = parsePayload(name, payload);
    if (!parsed.ok) {
      throw new AppError("INVALID_JOB_PAYLOAD", `Invalid payload for ${name}: ${parsed.issues}`, {
        retryable: false,
      });
    }
    const entry = jobCatalog[name];
    const delay = delayUntil === undefined ? 0 : Math.max(0, delayUntil.getTime() - now.getTime());
    const bullJobId = toBullJobId(jobId);
    let job: Awaited<ReturnType<Queue["add"]>>;
    let timer: NodeJS.Timeout | undefined;
    try {
      const adding = queueFor(entry.queue).add(name, parsed.payload, {
        ...entry.options,
        jobId: bullJobId,
        priority: priorityOf(name, parsed.payload),
        delay,
        // BullMQ schedules a delayed job at `timestamp + delay`; stamping our `now` makes that
        // exactly `delayUntil`, however long the add took to reach Redis.
        timestamp: now.getTime(),
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`No answer from Redis within ${enqueueTimeoutMs} ms`));
        }, enqueueTimeoutMs);
      });
      // An add that loses the race still settles later; this keeps its rejection handled.
      void adding.catch(() => {});
      job = await Promise.race([adding, timeout]);
    } catch (error) {
      // Redis down or unreachable: the caller keeps its outbox row and tries again.
      throw new AppError("QUEUE_UNAVAILABLE", `Could not enqueue ${name}`, {
        retryable: true,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
    if (job.id === undefined) {
      throw new AppError("ENQUEUE_FAILED", `BullMQ returned no id for ${name}`, { retryable: true });
    }
    return { jobId: job.id };
  };

  return {
    enqueue: (name, payload, options) => add(name, payload, options),

    async enqueueMessage(name, payload, options) {
      if (!isJobName(name)) {
        throw new AppError("UNKNOWN_JOB", `No job named ${name} in the catalog`, { retryable: false });
      }
      return add(name, payload, options);
    },

    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      queues.clear();
    },
  };
}
