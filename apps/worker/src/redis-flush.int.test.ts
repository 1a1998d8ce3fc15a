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
// Long enough that every lease and the pending request are still running when Redis is flushed,
// however slowly a busy machine activates them (checked below, or the test would prove nothing).
const DURATIONS_SECONDS = [10, 11, 11, 12, 12];
const PENDING_TIMEOUT_SECONDS = 10;
// Generous bounds on waiting for events, never verdicts on speed.
const EVENT_WAIT_MS = 120_000;

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
  // The leases' requests are approved however long a busy machine takes between submit and approve;
  // only the request left pending is on the short time-out.
  await putTestFlow(deps, "leases", flowRules());
  await putTestFlow(deps, "short", flowRules({ pendingTimeoutSeconds: PENDING_TIMEOUT_SECONDS }));
});

afterAll(async () => {
  await harness?.stop();
  await emulator?.close();
  await redis?.stop();
});

/** The instant a BullMQ job of the worker's queue started and finished (from its hash in Redis). */
async function jobTimes(admin: Redis, jobId: string): Promise<{ processedOn: number; finishedOn: number }> {
  const [processedOn, finishedOn] = await admin.hmget(
    `${prefix}:keyturn:${jobId}`,
    "processedOn",
    "finishedOn",
  );
  return { processedOn: Number(processedOn), finishedOn: Number(finishedOn) };
}

describe("after a FLUSHALL of Redis", () => {
  it("still ends every lease on time and times out the pending request, from the sweep alone", async ({
    annotate,
  }) => {
    const db = harness.db;
    const requestIds = await Promise.all(
      DURATIONS_SECONDS.map((durationSeconds, i) =>
        approveRequest(deps, { flowName: "leases", email: `lease${i}@example.com`, durationSeconds }),
      ),
    );
    await eventually(async () => {
      const active = await db.accessRequest.count({ where: { id: { in: requestIds }, status: "active" } });
      return active === requestIds.length;
    }, EVENT_WAIT_MS);
    const pending = await submitRequest(deps, {
      flowName: "short",
      requester: person("carol@example.com"),
      source: "api",
    });
    if (!pending.ok) {
      throw new Error(pending.error.message);
    }
    const pendingId = pending.value.id;

    // The jobs that would end all this are in Redis: a delayed lease-end reconcile per lease (keyed
    // by its activation's audit event) and the pending request's delayed time-out.
    const activations = await db.auditEvent.findMany({
      where: { requestId: { in: requestIds }, action: "request.activated" },
    });
    expect(activations).toHaveLength(requestIds.length);
    const expectedDelayed = [
      ...activations.map((event) => `reconcile%3A${event.id}`),
      `timeout%3A${pendingId}`,
    ];
    const admin = new Redis(redis.url);
    try {
      const delayedKey = `${prefix}:keyturn:delayed`;
      await eventually(async () => {
        const ids = await admin.zrange(delayedKey, 0, -1);
        return expectedDelayed.every((id) => ids.includes(id));
      }, EVENT_WAIT_MS);

      await admin.flushall();
      const flushedAt = Date.now();
      expect(await admin.zcard(delayedKey)).toBe(0);
      const leases = await db.lease.findMany({
        where: { requestId: { in: requestIds } },
        include: { assignment: { include: { identity: true } } },
      });
      const pendingUntil = (await db.accessRequest.findUniqueOrThrow({ where: { id: pendingId } }))
        .pendingUntil;
      // Every lease, and the pending request, was still running when its job vanished, or the
      // test would prove nothing.
      for (const lease of leases) {
        expect(lease.endsAt.getTime()).toBeGreaterThan(flushedAt);
      }
      expect(pendingUntil?.getTime() ?? 0).toBeGreaterThan(flushedAt);

      await eventually(async () => {
        const ended = await db.accessRequest.count({ where: { id: { in: requestIds }, status: "expired" } });
        const timedOut = await db.accessRequest.count({ where: { id: pendingId, status: "timed_out" } });
        return ended === requestIds.length && timedOut === 1;
      }, EVENT_WAIT_MS);

      // The sweeps that ran after the flush, oldest first (their job ids carry their interval).
      const completed = await admin.zrange(`${prefix}:keyturn:completed`, 0, -1);
      const sweeps = await Promise.all(
        completed.filter((id) => id.startsWith("sweep.leases-")).map((id) => jobTimes(admin, id)),
      );
      sweeps.sort((a, b) => a.processedOn - b.processedOn);
      /** The first sweep that started at or after `at`: it must see whatever was due by then. */
      const firstSweepFrom = (at: number) => {
        const sweep = sweeps.find((s) => s.processedOn >= at);
        if (sweep === undefined) {
          throw new Error(`no sweep started after ${new Date(at).toISOString()}`);
        }
        return sweep;
      };
      /**
       * The instants (job id suffix) of the sweeps that enqueued work for an id, whatever state
       * their jobs are in now (one that asked AWS to delete waits, delayed, to hear how it ended).
       */
      const sweepStamps = async (kind: "reconcile" | "timeout", id: string) => {
        const jobPrefix = `${prefix}:keyturn:sweep-${kind}-${id}-`;
        return (await admin.keys(`${jobPrefix}*`))
          .map((key) => Number(key.slice(jobPrefix.length)))
          .filter((stamp) => Number.isFinite(stamp))
          .sort((a, b) => a - b);
      };

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
        const firstSweep = firstSweepFrom(endsAt);
        const [enqueuedAt] = await sweepStamps("reconcile", lease.assignmentId);
        lags.push(
          `lease ${lease.id}: first sweep after its end started ${firstSweep.processedOn - endsAt} ms after endsAt; delete asked ${askedAt - endsAt} ms, gone ${attempt.finishedAt.getTime() - endsAt} ms after endsAt`,
        );
        // Invariant 4, as events: the removal is never asked before the lease's end, and the first
        // sweep that starts after it enqueues it (whatever the machine's speed, which only moves
        // when that sweep runs: SWEEP_INTERVAL_MS after the previous one, plus the queue's delay).
        expect(askedAt, lags.join("\n")).toBeGreaterThanOrEqual(endsAt);
        expect(enqueuedAt, lags.join("\n")).toBeGreaterThanOrEqual(endsAt);
        expect(enqueuedAt, lags.join("\n")).toBeLessThanOrEqual(firstSweep.finishedOn);
        expect(attempt.finishedAt.getTime()).toBeGreaterThanOrEqual(askedAt);
        expect(emulator.assignments().some((a) => a.principalId === principal)).toBe(false);
      }
      const deadline = pendingUntil?.getTime() ?? 0;
      const timedOutEvent = await db.auditEvent.findFirstOrThrow({
        where: { requestId: pendingId, action: "request.timed_out" },
      });
      const [timeOutEnqueuedAt] = await sweepStamps("timeout", pendingId);
      expect(timedOutEvent.at.getTime()).toBeGreaterThanOrEqual(deadline);
      expect(timeOutEnqueuedAt).toBeGreaterThanOrEqual(deadline);
      expect(timeOutEnqueuedAt).toBeLessThanOrEqual(firstSweepFrom(deadline).finishedOn);
      lags.push(`pending request timed out ${timedOutEvent.at.getTime() - deadline} ms after its deadline`);
      await annotate(lags.join("\n"));

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
  }, 300_000);
});
