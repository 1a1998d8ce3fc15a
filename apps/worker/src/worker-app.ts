import { once } from "node:events";
import type { WorkerConfig } from "@keyturn/config";
import { type Db, pingDatabase } from "@keyturn/db";
import { type Logger, withLogContext } from "@keyturn/observability";
import {
  assertHandlers,
  createProducer,
  createWorker,
  type Handlers,
  type JobContext,
  type Producer,
} from "@keyturn/queue";
import {
  type BucketPolicyS3Deps,
  type IdentityCenter,
  type Integrations,
  type Notifier,
  type ReconcileDeps,
  type SessionCutoffDeps,
  type SignInNotifier,
  sessionCutoffStatus,
} from "@keyturn/usecases";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { startHealthServer } from "./health-server.js";
import { assignmentReconcileHandler } from "./jobs/assignment-reconcile.js";
import { bucketApplyHandler } from "./jobs/bucket-apply.js";
import { cutoffArmHandler } from "./jobs/cutoff-arm.js";
import { identityResolveHandler } from "./jobs/identity-resolve.js";
import { requestNotifyHandler } from "./jobs/request-notify.js";
import { requestOnCallCheckHandler } from "./jobs/request-on-call-check.js";
import { requestTimeOutHandler } from "./jobs/request-time-out.js";
import { signInNotifyHandler } from "./jobs/signin-notify.js";
import { sweepDriftHandler } from "./jobs/sweep-drift.js";
import { sweepLeasesHandler } from "./jobs/sweep-leases.js";
import { sweepTicketsHandler } from "./jobs/sweep-tickets.js";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.js";
import { type JobSink, startOutboxRelay } from "./outbox-relay.js";
import { startRevocationBackstop } from "./revocation-backstop.js";

export type WorkerDeps = {
  config: Pick<
    WorkerConfig,
    "databaseUrl" | "concurrency" | "sweepIntervalMs" | "driftScanIntervalMs" | "outboxPollMs" | "health"
  > & {
    redis: { prefix: string };
    /** How often the tickets open access is bound to are looked up again (default 60 s). */
    ticketPollIntervalMs?: number;
  };
  db: Db;
  /** Two connections: BullMQ workers block on theirs (maxRetriesPerRequest null), producers fail fast. */
  redis: { worker: Redis; producer: Redis };
  reconcile: ReconcileDeps;
  identityCenter: IdentityCenter;
  /** Request changes and `keyturn login` questions, to the people concerned (Slack, or the log). */
  notifier: Notifier & SignInNotifier;
  logger: Logger;
  /** Protected buckets (session cut-offs, policy drift); absent: no bucket policies are managed. */
  bucketPolicies?: SessionCutoffDeps & BucketPolicyS3Deps;
  /** On-call and ticket providers (on-call approval, ticket polling); absent: none configured. */
  integrations?: Integrations;
  /**
   * The registry /metrics serves. Created by the caller when its adapters count into it (AWS calls,
   * Slack errors); default: a fresh one.
   */
  metrics?: WorkerMetrics;
};

export type RunningWorker = {
  producer: Producer;
  metrics: WorkerMetrics;
  healthUrl: string;
  /** Relays pending outbox rows now (tests; normally NOTIFY and the poll do it). */
  drainOutbox(): Promise<void>;
  /** Graceful: stop taking work, let running jobs finish, close connections we opened. */
  close(): Promise<void>;
};

/**
 * The worker process: relays the outbox into the queue, runs every job in the catalog, schedules the
 * sweeps, and answers health checks. Several processes can run at once: job ids deduplicate the
 * relay and the sweeps, per-assignment claims (PostgreSQL session locks that die with their
 * holder) serialize the reconciler, and the Identity Center rate limit is shared through Redis.
 */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, db, logger } = deps;
  const queue = new Queue("keyturn", { connection: deps.redis.producer, prefix: config.redis.prefix });
  const metrics = deps.metrics ?? createWorkerMetrics();
  metrics.countQueueWith(() => queue.getJobCounts("waiting", "delayed", "prioritized", "active", "failed"));
  const bucketPolicies = deps.bucketPolicies;
  if (bucketPolicies !== undefined) {
    metrics.reportCutoffsWith(() => sessionCutoffStatus(bucketPolicies));
  }
  const now = () => deps.reconcile.clock.now();
  const producer = createProducer({ connection: deps.redis.producer, prefix: config.redis.prefix, logger });
  const usecases =
    deps.integrations === undefined ? deps.reconcile : { ...deps.reconcile, integrations: deps.integrations };

  const handlers: Handlers = {
    "assignment.reconcile": assignmentReconcileHandler({
      reconcile: deps.reconcile,
      db,
      metrics,
      logger,
      ...(deps.bucketPolicies === undefined ? {} : { bucketPolicies: deps.bucketPolicies }),
    }),
    "cutoff.arm": cutoffArmHandler({
      metrics,
      logger,
      ...(deps.bucketPolicies === undefined ? {} : { bucketPolicies: deps.bucketPolicies }),
    }),
    "bucket.apply": bucketApplyHandler({
      metrics,
      logger,
      ...(deps.bucketPolicies === undefined ? {} : { bucketPolicies: deps.bucketPolicies }),
    }),
    "identity.resolve": identityResolveHandler({
      ...deps.reconcile,
      identityCenter: deps.identityCenter,
      logger,
      metrics,
    }),
    "request.notify": requestNotifyHandler({ notifier: deps.notifier }),
    "request.time-out": requestTimeOutHandler(deps.reconcile),
    "request.on-call-check": requestOnCallCheckHandler(usecases),
    "sweep.tickets": sweepTicketsHandler({ ...usecases, logger }),
    "signin.notify": signInNotifyHandler({ notifier: deps.notifier, usecases: deps.reconcile }),
    "sweep.leases": sweepLeasesHandler({
      db,
      producer,
      now,
      // Two sweeps: its job had every chance to run (at least 5 s, for very short intervals).
      onCallCheckGraceMs: Math.max(5_000, 2 * config.sweepIntervalMs),
      ...(deps.bucketPolicies === undefined ? {} : { bucketPolicies: deps.bucketPolicies }),
    }),
    "sweep.drift": sweepDriftHandler({
      ...deps.reconcile,
      identityCenter: deps.identityCenter,
      logger,
      ...(deps.bucketPolicies === undefined ? {} : { bucketPolicies: deps.bucketPolicies }),
    }),
  };
  assertHandlers(handlers);
  const logged = withJobLogContext(handlers);

  await warmUp(deps);
  let lastTick = Date.now();
  const worker = createWorker({
    connection: deps.redis.worker,
    prefix: config.redis.prefix,
    handlers: logged,
    concurrency: config.concurrency,
    logger,
    onOutcome: (outcome) => {
      lastTick = Date.now();
      metrics.jobs.inc({ name: outcome.name, outcome: outcome.outcome });
      metrics.jobDuration.observe({ name: outcome.name }, outcome.durationMs / 1000);
      if (outcome.outcome === "failed") {
        logger.error({ job: outcome.name, jobId: outcome.jobId, err: outcome.error }, "job failed for good");
      }
    },
  });

  const sink: JobSink = {
    async enqueue(message) {
      await producer.enqueueMessage(message.topic, message.payload, {
        jobId: message.key,
        delayUntil: message.availableAt,
        now: now(),
      });
      metrics.outboxRelayed.inc();
    },
  };
  const relay = startOutboxRelay({
    db,
    databaseUrl: config.databaseUrl,
    sink,
    now,
    pollIntervalMs: config.outboxPollMs,
    logger,
  });

  // Sweeps are scheduled by every process with one job id per interval: Redis deduplicates them, and
  // unlike a repeatable job stored in Redis, the schedule survives a FLUSHALL.
  const schedule = (name: "sweep.leases" | "sweep.drift" | "sweep.tickets", intervalMs: number) => {
    const tick = () => {
      lastTick = Date.now();
      const at = now();
      const slot = Math.floor(at.getTime() / intervalMs);
      producer.enqueue(name, {}, { jobId: `${name}-${slot}`, now: at }).catch((error: unknown) => {
        logger.warn({ err: error, job: name }, "could not schedule a sweep; will try at the next tick");
      });
    };
    tick();
    return setInterval(tick, Math.min(intervalMs, 5_000));
  };
  const timers = [
    schedule("sweep.leases", config.sweepIntervalMs),
    schedule("sweep.drift", config.driftScanIntervalMs),
    schedule("sweep.tickets", config.ticketPollIntervalMs ?? 60_000),
  ];
  // Access ends on time even while the queue is paused or emptied (revocation-backstop.ts).
  const backstop = startRevocationBackstop({
    db,
    reconcile: handlers["assignment.reconcile"],
    now,
    logger,
    intervalMs: Math.max(250, config.sweepIntervalMs / 4),
    graceMs: Math.max(250, config.sweepIntervalMs / 4),
    // Two sweeps and a margin: a worker that just reconnected to Redis is slow to take its first jobs.
    runningGraceMs: 2 * config.sweepIntervalMs + 5_000,
    queueRunning: async () => !(await queue.isPaused()),
    onReconciled: () => metrics.revocationBackstop.inc(),
  });

  const health = await startHealthServer({
    host: config.health.host,
    port: config.health.port,
    registry: metrics.registry,
    checks: {
      live: () => Date.now() - lastTick < Math.max(60_000, config.sweepIntervalMs * 3),
      ready: async () => ({
        postgres: await pingDatabase(db).then(
          () => true,
          () => false,
        ),
        redis: await deps.redis.producer.ping().then(
          (pong) => pong === "PONG",
          () => false,
        ),
      }),
    },
  });

  let closing: Promise<void> | null = null;
  return {
    producer,
    metrics,
    healthUrl: health.url,
    drainOutbox: () => relay.drain(),
    close() {
      closing ??= (async () => {
        for (const timer of timers) {
          clearInterval(timer);
        }
        await backstop.close();
        await relay.close();
        await worker.close();
        await producer.close();
        await queue.close();
        await health.close();
      })();
      return closing;
    },
  };
}

/**
 * Every state change a job causes is logged with the job's name and id, and the ids its payload
 * names (request, assignment, identity): `grep <id>` finds the job that made each change.
 */
function withJobLogContext(handlers: Handlers): Handlers {
  const wrapped: Record<string, (payload: never, ctx: JobContext) => Promise<void>> = {};
  for (const [name, handler] of Object.entries(handlers) as Array<
    [string, (payload: Record<string, unknown>, ctx: JobContext) => Promise<void>]
  >) {
    wrapped[name] = (payload: Record<string, unknown>, ctx: JobContext) => {
      const ids = Object.fromEntries(
        ["requestId", "assignmentId", "identityId"].flatMap((key) =>
          typeof payload[key] === "string" ? [[key, payload[key]]] : [],
        ),
      );
      return withLogContext({ job: name, jobId: ctx.jobId, ...ids }, () => handler(payload, ctx));
    };
  }
  return wrapped as unknown as Handlers;
}

/**
 * A (re)started worker's first removal would otherwise look up the Identity Center instance and the
 * permission sets (several calls through the shared quota) before its delete could go out: the
 * sets Keyturn manages are looked up before the worker takes jobs. Best effort and bounded: a
 * failure here is what the first job would have met anyway.
 */
async function warmUp(deps: WorkerDeps): Promise<void> {
  const lookUp = async () => {
    // The calls take tokens from the shared rate limiter, whose connection fails fast until ready.
    if (deps.redis.producer.status !== "ready") {
      await once(deps.redis.producer, "ready");
    }
    const targets = await deps.reconcile.uow.run((tx) => tx.drift.managedTargets());
    for (const name of new Set(targets.map((t) => t.permissionSetName))) {
      await deps.identityCenter.permissionSet(name);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    lookUp().catch((error: unknown) => {
      deps.logger.warn(
        { err: error },
        "could not look up the managed permission sets ahead of the first job",
      );
    }),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, WARM_UP_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
}

const WARM_UP_LIMIT_MS = 10_000;
