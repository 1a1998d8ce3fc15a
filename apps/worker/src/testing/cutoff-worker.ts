import { randomUUID } from "node:crypto";
import { createBucketPolicyStore } from "@keyturn/aws";
import {
  createBucketPolicyUnitOfWork,
  createPrismaClient,
  createUnitOfWork,
  type PrismaClient,
} from "@keyturn/db";
import type { AwsEmulator } from "@keyturn/testkit";
import type { BucketPolicyS3Deps, Deps } from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";
import { clearPrefix, startTestWorker } from "../worker-harness.js";

/**
 * For the session cut-off tests: a worker in this process with protected buckets, wired as main.ts
 * wires it (Keyturn's S3 client signs as `keyturnKey`; each set's SessionDuration from Identity
 * Center), and the test's own database client, use-case deps and bucket-policy deps. `stop` may be
 * called more than once.
 */
export async function startCutoffWorker(input: {
  databaseUrl: string;
  emulator: AwsEmulator;
  prefix: string;
  keyturnKey: string;
  metrics: WorkerMetrics;
}): Promise<{ db: PrismaClient; deps: Deps; s3: BucketPolicyS3Deps; stop(): Promise<void> }> {
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const store = () =>
    createBucketPolicyStore({
      region: input.emulator.region,
      endpoint: input.emulator.endpoint,
      credentials: { accessKeyId: input.keyturnKey, secretAccessKey: "x" },
      retry: { maxAttempts: 1 },
    });
  const db = createPrismaClient({ databaseUrl: input.databaseUrl, maxConnections: 4 });
  const started = await startTestWorker({
    databaseUrl: input.databaseUrl,
    emulator: input.emulator,
    prefix: input.prefix,
    sweepIntervalMs: 2_000,
    metrics: input.metrics,
    bucketPolicies: (parts) => ({
      uow: createBucketPolicyUnitOfWork(parts.db, { clock: parts.clock, ids: parts.ids }),
      clock: parts.clock,
      store: store(),
      sessionDurationSeconds: async (name) =>
        (await parts.identityCenter.permissionSet(name)).sessionDurationSeconds,
    }),
  });
  let stopped = false;
  return {
    db,
    deps: { uow: createUnitOfWork(db, { clock, ids }), clock, ids },
    s3: { uow: createBucketPolicyUnitOfWork(db, { clock, ids }), clock, store: store() },
    async stop() {
      if (!stopped) {
        stopped = true;
        await clearPrefix(started.redis.producer, input.prefix);
        await started.stop();
      }
    },
  };
}
