import { randomUUID } from "node:crypto";
import { assignmentsNeedingReconcile, pendingRequestsPastTimeout } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import { type Deps, submitRequest } from "@keyturn/usecases";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approveRequest,
  callsFor,
  flowRules,
  numberedUsers,
  person,
  putTestFlow,
  useCaseDeps,
} from "./testing/access-world.js";
import { type PrivateRedis, startPrivateRedis } from "./testing/private-redis.js";
import { eventually, startTestWorker } from "./worker-harness.js";

// FLUSHALL needs a Redis of its own: on the shared one it would wipe every other test file's queue.
const SWEEP_INTERVAL_MS = 1_000;
// From a lease's end to the deletion being asked for, beyond the sweep interval: the sweep job's
// turn in the queue and its query, the reconcile job's claim and snapshot, and one rate-limited
// ListAccountAssignments. A few hundred ms on an idle machine; a second leaves room for a loaded one.
const HANDLING_MS = 1_000;

const database = useTestDatabase();
const prefix = `kt-flush-${randomUUID().slice(0, 8)}`;
let redis: PrivateRedis;
let emulator: AwsEmulator;
let harness: Awaited<ReturnType<typeof startTestWorker>>;
let deps: Deps;

beforeAll(async () => {
  redis = await startPrivateRedis();
  emulator = await startAwsEmulator({ assignmentDelayMs: 50 });
  const seed = standardSeed();
  emulator.seed({ ...seed, users: [...(seed.users ?? []), ...numberedUsers(5, "lease")] });
  harness = await startTestWorker({
    databaseUrl: database.url,
    emulator,
    prefix,
    redisUrl: redis.url,
    sweepIntervalMs: SWEEP_INTERVAL_MS,
  });
  deps = useCaseDeps(harness.db);
  await putTestFlow(deps, "short", flowRules({ pendingTimeoutSeconds: 4 }));
});

afterAll(async () => {
  await harness?.stop();
  await emulator?.close();
  await redis?.stop();
});

describe("after a FLUSHALL of Redis", () => {
  it("still ends every lease on time and times out the pending request, from the sweep alone", async () => {
    const db = harness.db;
    const durations = [4, 5, 5, 6, 6];
    const requestIds = await Promise.all(
      durations.map((durationSeconds, i) =>
        approveRequest(deps, { flowName: "short", email: `lease${i}@example.com`, durationSeconds }),
      ),
    );
    await eventually(async () => {
      const active = await db.accessRequest.count({ where: { id: { in: requestIds }, status: "active" } });
      return active === requestIds.length;
    });
    const pending = await submitRequest(deps, {
      flowName: "short",
      requester: person("carol@example.com"),
      source: "api",
    });
    if (!pending.ok) {
      throw new Error(pending.error.message);
    }
    const pendingId = pending.value.id;

    // The jobs that would end all this are in Redis: a delayed lease-end reconcile per lease and
    // the pending request's delayed time-out.
    const admin = new Redis(redis.url);
    try {
      const delayedKey = `${prefix}:keyturn:delayed`;
      const delayed = await eventually(async () => {
        const ids = await admin.zrange(delayedKey, 0, -1);
        return ids.includes(`timeout%3A${pendingId}`) && ids.length >= durations.length + 1 ? ids : undefined;
      });
      expect(delayed.length).toBeGreaterThanOrEqual(durations.length + 1);

      await admin.flushall();
      const flushedAt = Date.now();
      expect(await admin.zcard(delayedKey)).toBe(0);
      const leases = await db.lease.findMany({
        where: { requestId: { in: requestIds } },
        include: { assignment: { include: { identity: true } } },
      });
      // Every lease was still running when its job vanished, or the test would prove nothing.
      for (const lease of leases) {
        expect(lease.endsAt.getTime()).toBeGreaterThan(flushedAt);
      }

      await eventually(async () => {
        const ended = await db.accessRequest.count({ where: { id: { in: requestIds }, status: "expired" } });
        const timedOut = await db.accessRequest.count({ where: { id: pendingId, status: "timed_out" } });
        return ended === requestIds.length && timedOut === 1;
      }, 30_000);

      const log = emulator.callLog();
      const lags: string[] = [];
      for (const lease of leases) {
        const principal = lease.assignment.identity.identityStoreUserId ?? "";
        const deletes = callsFor(log, "DeleteAccountAssignment", principal);
        expect(deletes).toHaveLength(1);
        expect(callsFor(log, "CreateAccountAssignment", principal)).toHaveLength(1);
        const attempt = await db.reconcileAttempt.findFirstOrThrow({
          where: { assignmentId: lease.assignmentId, operation: "delete", outcome: "succeeded" },
        });
        const endsAt = lease.endsAt.getTime();
        const askedAt = deletes[0]?.at ?? Number.POSITIVE_INFINITY;
        lags.push(
          `asked ${askedAt - endsAt} ms, gone ${attempt.finishedAt.getTime() - endsAt} ms after endsAt`,
        );
        // Invariant 4: asked by endsAt + the sweep interval (+ handling); gone once AWS is done.
        expect(askedAt, lags.join("\n")).toBeGreaterThanOrEqual(endsAt);
        expect(askedAt - endsAt, lags.join("\n")).toBeLessThanOrEqual(SWEEP_INTERVAL_MS + HANDLING_MS);
        expect(attempt.finishedAt.getTime()).toBeGreaterThanOrEqual(askedAt);
        expect(emulator.assignments().some((a) => a.principalId === principal)).toBe(false);
      }
      const pendingRow = await db.accessRequest.findUniqueOrThrow({ where: { id: pendingId } });
      const timedOutEvent = await db.auditEvent.findFirstOrThrow({
        where: { requestId: pendingId, action: "request.timed_out" },
      });
      const deadline = pendingRow.pendingUntil?.getTime() ?? 0;
      expect(timedOutEvent.at.getTime() - deadline).toBeLessThanOrEqual(SWEEP_INTERVAL_MS + HANDLING_MS);

      // It was the sweep that did it: the only jobs that ran for these after the flush are its own.
      const completed = await admin.zrange(`${prefix}:keyturn:completed`, 0, -1);
      for (const lease of leases) {
        expect(completed.some((id) => id.startsWith(`sweep-reconcile-${lease.assignmentId}-`))).toBe(true);
      }
      expect(completed.some((id) => id.startsWith(`sweep-timeout-${pendingId}-`))).toBe(true);

      // Nothing stuck: no request waiting on a job that will never come, nothing left to relay.
      const now = new Date();
      expect(await assignmentsNeedingReconcile(db, now)).toEqual([]);
      expect(await pendingRequestsPastTimeout(db, now)).toEqual([]);
      expect(
        await db.accessRequest.count({ where: { status: { in: ["pending", "approved", "active"] } } }),
      ).toBe(0);
      expect(await db.outboxMessage.count({ where: { sentAt: null } })).toBe(0);
    } finally {
      await admin.quit();
    }
  }, 60_000);
});
