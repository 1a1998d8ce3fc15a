import { randomUUID } from "node:crypto";
import { createIdentityCenter } from "@keyturn/aws";
import { createAssignmentClaims, createPrismaClient, createUnitOfWork, type PrismaClient } from "@keyturn/db";
import { createLogger } from "@keyturn/observability";
import { createRedisConnection, createRedisRateLimiter } from "@keyturn/queue";
import type { AwsEmulator } from "@keyturn/testkit";
import type {
  BucketPolicyS3Deps,
  Clock,
  IdentityCenter,
  IdGenerator,
  Integrations,
  Notifier,
  RequestNotification,
  SessionCutoffDeps,
  SignInNotifier,
} from "@keyturn/usecases";
import type { Redis } from "ioredis";
import type { WorkerMetrics } from "./metrics.js";
import { type RunningWorker, startWorker } from "./worker-app.js";

/** A notifier that remembers what it was told (our own port; the Slack one is tested in apps/slack). */
export function createRecordingNotifier(): Notifier & SignInNotifier & { seen: RequestNotification[] } {
  const seen: RequestNotification[] = [];
  return {
    seen,
    async notifySignIn() {
      return "asked";
    },
    async notify(notification) {
      seen.push(notification);
    },
  };
}

export type HarnessOptions = {
  databaseUrl: string;
  emulator: AwsEmulator;
  prefix: string;
  sweepIntervalMs?: number;
  notifier?: Notifier & SignInNotifier;
  /** Default: the shared test Redis on 127.0.0.1:6379. */
  redisUrl?: string;
  /** Protected buckets, built from this worker's parts; default none. */
  bucketPolicies?: (parts: {
    db: PrismaClient;
    clock: Clock;
    ids: IdGenerator;
    identityCenter: IdentityCenter;
  }) => SessionCutoffDeps & BucketPolicyS3Deps;
  metrics?: WorkerMetrics;
  /** On-call and ticket providers; default none. */
  integrations?: Integrations;
  /** How often tickets bound to open access are looked up again; default 60 s. */
  ticketPollIntervalMs?: number;
};

/** One worker process's worth of components, in this process: what main.ts wires, minus env. */
export async function startTestWorker(options: HarnessOptions): Promise<{
  worker: RunningWorker;
  db: PrismaClient;
  redis: { worker: Redis; producer: Redis };
  stop(): Promise<void>;
}> {
  const logger = createLogger({ name: "test-worker", level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const db = createPrismaClient({ databaseUrl: options.databaseUrl });
  const redisUrl = options.redisUrl ?? "redis://127.0.0.1:6379";
  const redis = {
    worker: createRedisConnection(redisUrl, "worker"),
    producer: createRedisConnection(redisUrl, "producer"),
  };
  const limiter = createRedisRateLimiter({ redis: redis.producer, prefix: options.prefix });
  const identityCenter = createIdentityCenter({
    region: options.emulator.region,
    endpoint: options.emulator.endpoint,
    credentials: { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "x" },
    limiter,
    pollIntervalMs: 25,
  });
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const claims = createAssignmentClaims({ databaseUrl: options.databaseUrl });
  const worker = await startWorker({
    config: {
      databaseUrl: options.databaseUrl,
      concurrency: 16,
      sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
      driftScanIntervalMs: 3_600_000,
      outboxPollMs: 200,
      health: { host: "127.0.0.1", port: 0 },
      redis: { prefix: options.prefix },
      ...(options.ticketPollIntervalMs === undefined
        ? {}
        : { ticketPollIntervalMs: options.ticketPollIntervalMs }),
    },
    db,
    redis,
    reconcile: {
      uow: createUnitOfWork(db, { clock, ids }),
      clock,
      ids,
      identityCenter,
      claims,
    },
    identityCenter,
    notifier: options.notifier ?? createRecordingNotifier(),
    logger,
    ...(options.bucketPolicies === undefined
      ? {}
      : { bucketPolicies: options.bucketPolicies({ db, clock, ids, identityCenter }) }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.integrations === undefined ? {} : { integrations: options.integrations }),
  });
  return {
    worker,
    db,
    redis,
    async stop() {
      await worker.close();
      await claims.close();
      identityCenter.close();
      await Promise.allSettled([redis.worker.quit(), redis.producer.quit(), db.$disconnect()]);
    },
  };
}

/** Deletes every key under a test's prefix (never FLUSHALL: other test files share the server). */
export async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) {
      await redis.del(...keys);
    }
  } while (cursor !== "0");
}

/**
 * Polls a condition that has no event to await (a row changing in another process's transaction).
 * The default bound is generous: it is there to end a test that hangs, not to judge speed.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
