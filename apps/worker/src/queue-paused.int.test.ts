import { randomUUID } from "node:crypto";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import type { Deps } from "@keyturn/usecases";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approveRequest,
  callsFor,
  flowRules,
  numberedUsers,
  putTestFlow,
  useCaseDeps,
} from "./testing/access-world.js";
import { clearPrefix, eventually, startTestWorker } from "./worker-harness.js";

// DESIGN.md invariant 9: no operator action keeps access past its end. A queues:write token can
// pause Keyturn's queue and clean its jobs from the dashboard (bull-board calls exactly these
// BullMQ methods); the lease sweep is itself a queued job. With the queue paused and emptied over
// and over during a burst of expiries, every assignment must still be gone by endsAt + the sweep
// interval.

const SWEEP_INTERVAL_MS = 2_000;
// Beyond the sweep interval: the backstop's query, the reconciler's claim and snapshot, one
// rate-limited DeleteAccountAssignment. A few hundred ms on an idle machine; generous for a loaded one.
const HANDLING_MS = 1_500;
const LEASES = 12;

const database = useTestDatabase();
const prefix = `kt-paused-${randomUUID().slice(0, 8)}`;
let emulator: AwsEmulator;
let harness: Awaited<ReturnType<typeof startTestWorker>>;
let deps: Deps;
let admin: Redis;

beforeAll(async () => {
  emulator = await startAwsEmulator({ assignmentDelayMs: 50 });
  const seed = standardSeed();
  emulator.seed({ ...seed, users: [...(seed.users ?? []), ...numberedUsers(LEASES, "paused")] });
  harness = await startTestWorker({
    databaseUrl: database.url,
    emulator,
    prefix,
    sweepIntervalMs: SWEEP_INTERVAL_MS,
  });
  deps = useCaseDeps(harness.db);
  await putTestFlow(deps, "short", flowRules());
  admin = new Redis("redis://127.0.0.1:6379");
});

afterAll(async () => {
  await harness?.stop();
  await emulator?.close();
  if (admin !== undefined) {
    await clearPrefix(admin, prefix);
    await admin.quit();
  }
});

describe("with Keyturn's queue paused and its jobs cleaned, again and again", () => {
  it("every assignment is still gone by endsAt + the sweep interval", async () => {
    const db = harness.db;
    // One after another: concurrent first submissions of new requesters can deadlock in PostgreSQL
    // (advisory lock vs. a unique-index wait), which this test is not about.
    const requestIds: string[] = [];
    for (let i = 0; i < LEASES; i++) {
      requestIds.push(
        await approveRequest(deps, {
          flowName: "short",
          email: `paused${i}@example.com`,
          // Long enough for all twelve to be active before the first ends, on a busy machine too.
          durationSeconds: 12 + (i % 3),
        }),
      );
    }
    await eventually(async () => {
      const states = await db.accessRequest.groupBy({
        by: ["status"],
        where: { id: { in: requestIds } },
        _count: true,
      });
      expect(states.filter((s) => s.status !== "approved" && s.status !== "active")).toEqual([]);
      return states.length === 1 && states[0]?.status === "active";
    }, 60_000);

    // What a queues:write token does from the dashboard, kept up for the whole test.
    const queue = new Queue("keyturn", { connection: admin, prefix });
    const vandalize = async () => {
      await queue.pause();
      for (const state of ["delayed", "wait", "prioritized", "completed", "failed"] as const) {
        await queue.clean(0, 10_000, state);
      }
    };
    // The delayed lease-end jobs are gone (the worker's timer keeps adding sweep jobs, which
    // stay in the paused queue). A reconcile running while the queue is cleaned is not cleaned, and
    // one that finds its assignment busy goes back to the delayed set: clean again until none is left.
    await eventually(async () => {
      await vandalize();
      const left = await queue.getJobs(["delayed", "wait", "prioritized", "active"]);
      return left.every((job) => job.name !== "assignment.reconcile");
    }, 60_000);
    expect(await queue.isPaused()).toBe(true);
    const pausedAt = Date.now();
    let stop = false;
    const vandal = (async () => {
      while (!stop) {
        await vandalize();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    try {
      const leases = await db.lease.findMany({
        where: { requestId: { in: requestIds } },
        include: { assignment: { include: { identity: true } } },
      });
      // Every lease was still running when the queue stopped, or the test would prove nothing.
      for (const lease of leases) {
        expect(lease.endsAt.getTime()).toBeGreaterThan(pausedAt);
      }
      await eventually(async () => {
        const ended = await db.accessRequest.count({ where: { id: { in: requestIds }, status: "expired" } });
        return ended === LEASES;
      }, 60_000);
      expect(await queue.isPaused()).toBe(true);

      const log = emulator.callLog();
      const lags: string[] = [];
      for (const lease of leases) {
        const principal = lease.assignment.identity.identityStoreUserId ?? "";
        const deletes = callsFor(log, "DeleteAccountAssignment", principal);
        expect(deletes).toHaveLength(1);
        const endsAt = lease.endsAt.getTime();
        const askedAt = deletes[0]?.at ?? Number.POSITIVE_INFINITY;
        const attempt = await db.reconcileAttempt.findFirstOrThrow({
          where: { assignmentId: lease.assignmentId, operation: "delete", outcome: "succeeded" },
        });
        lags.push(
          `asked ${askedAt - endsAt} ms, gone ${attempt.finishedAt.getTime() - endsAt} ms after endsAt`,
        );
        // Invariant 4 and 9: asked by endsAt + the sweep interval (+ handling), and gone.
        expect(askedAt, lags.join("\n")).toBeGreaterThanOrEqual(endsAt);
        expect(askedAt - endsAt, lags.join("\n")).toBeLessThanOrEqual(SWEEP_INTERVAL_MS + HANDLING_MS);
        expect(emulator.assignments().some((a) => a.principalId === principal)).toBe(false);
      }
      // It was the backstop: nothing ran through the paused queue.
      const metrics = await harness.worker.metrics.registry.getSingleMetricAsString(
        "keyturn_revocation_backstop_total",
      );
      expect(Number(/keyturn_revocation_backstop_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
        LEASES,
      );
    } finally {
      stop = true;
      await vandal;
      await queue.resume();
      await queue.close();
    }
  }, 120_000);
});
