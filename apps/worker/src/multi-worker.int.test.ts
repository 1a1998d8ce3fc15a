import { randomUUID } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type CallRecord, maxCallsInAnyWindow } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import type { Deps } from "@keyturn/usecases";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approveRequest,
  countByPrincipal,
  flowRules,
  numberedUsers,
  putTestFlow,
  useCaseDeps,
} from "./testing/access-world.js";
import { type ChildWorker, killChildWorkers, startChildWorker } from "./testing/child-worker.js";
import { type EmulatorProcess, startEmulatorProcess } from "./testing/emulator-process.js";
import { clearPrefix, eventually } from "./worker-harness.js";

// Two worker processes on one queue, against an emulator that enforces Identity Center's quotas
// (20 calls/s shared by every API, 15 creations in flight). Every call goes through the real path,
// identity lookups included (three Identity Store calls per new user), so 500 grants and 500
// removals are some 5,000 calls: at the workers' shared 18 calls/s this test cannot take much less
// than five minutes.
const USERS = 500;
// Leases end this long after activation, so grants and removals interleave as they would in use.
const DURATION_S = 60;
// Approvals are let in while fewer than this many wait for their grant, as requests would arrive
// over time. Removals go first and waiting grants are served in no particular order, so a grant
// can wait tens of seconds behind 25 others; one approved into a backlog longer than its duration
// has its window end before the grant and fails (correctly), which is not what this test is about.
const IN_FLIGHT = 15;

const database = useTestDatabase();
const prefix = `kt-multi-${randomUUID().slice(0, 8)}`;
let emulator: EmulatorProcess;
let db: PrismaClient;
let deps: Deps;
let workers: ChildWorker[];

beforeAll(async () => {
  // In a process of its own, so that it times calls as the workers send them (see there).
  emulator = await startEmulatorProcess({ quotas: true });
  const seed = standardSeed();
  await emulator.seed({ ...seed, users: [...(seed.users ?? []), ...numberedUsers(USERS, "multi")] });
  db = createPrismaClient({ databaseUrl: database.url });
  deps = useCaseDeps(db);
  await putTestFlow(deps, "s3", flowRules());
  // The deployed sweep interval (30 s): the sweep is the safety net, not the path under test.
  workers = await Promise.all(
    [0, 1].map(() =>
      startChildWorker({ databaseUrl: database.url, emulator, prefix, sweepIntervalSeconds: 30 }),
    ),
  );
});

afterAll(async () => {
  await killChildWorkers();
  const redis = new Redis("redis://127.0.0.1:6379");
  await clearPrefix(redis, prefix);
  await redis.quit();
  await db?.$disconnect();
  await emulator?.close();
});

/** For a failure: what AWS was asked, and what the database recorded, for a few principals. */
async function explain(principals: Array<string | null>, log: CallRecord[]): Promise<string> {
  const lines: string[] = [];
  for (const principal of principals) {
    const identity = await db.identity.findFirst({ where: { identityStoreUserId: principal } });
    const assignment = await db.assignment.findFirst({
      where: { identityId: identity?.id ?? "" },
      include: { attempts: true, leases: true },
    });
    lines.push(`principal ${principal} (${identity?.email}):`);
    for (const call of log.filter((c) => c.input.PrincipalId === principal)) {
      lines.push(`  ${new Date(call.at).toISOString()} ${call.operation} ${call.outcome}`);
    }
    for (const attempt of assignment?.attempts ?? []) {
      lines.push(`  attempt ${attempt.operation} ${attempt.outcome} ${attempt.startedAt.toISOString()}`);
    }
    for (const lease of assignment?.leases ?? []) {
      const events = await db.auditEvent.findMany({
        where: { requestId: lease.requestId },
        orderBy: { seq: "asc" },
      });
      lines.push(`  request ${events.map((e) => `${e.action}@${e.at.toISOString()}`).join(" ")}`);
    }
  }
  return lines.join("\n");
}

async function completedReconciles(worker: ChildWorker): Promise<number> {
  const metrics = await (await fetch(`${worker.healthUrl}/metrics`)).text();
  const line = /keyturn_worker_jobs_total\{name="assignment.reconcile",outcome="completed"\} (\d+)/.exec(
    metrics,
  );
  return Number(line?.[1] ?? 0);
}

describe("two worker processes on one queue", () => {
  it(
    "grant 500 and remove 500 with each AWS change asked for once, inside the quota",
    async () => {
      const requestIds: string[] = [];
      for (let next = 0; next < USERS; ) {
        const waiting = await db.accessRequest.count({ where: { status: "approved" } });
        const room = Math.min(IN_FLIGHT - waiting, USERS - next);
        if (room <= 0) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        const batch = Array.from({ length: room }, (_, i) => next + i);
        next += room;
        requestIds.push(
          ...(await Promise.all(
            batch.map((i) =>
              approveRequest(deps, {
                flowName: "s3",
                email: `multi${i}@example.com`,
                durationSeconds: DURATION_S,
              }),
            ),
          )),
        );
      }

      await eventually(
        async () => {
          const open = await db.accessRequest.count({
            where: { id: { in: requestIds }, status: { in: ["approved", "active"] } },
          });
          return open === 0;
        },
        8 * 60_000,
        1_000,
      );

      const statuses = await db.accessRequest.groupBy({ by: ["status"], _count: true });
      // Soft: the checks below are independent, and one run should report every one that fails.
      expect.soft(statuses.map((s) => [s.status, s._count])).toEqual([["expired", USERS]]);

      const log = await emulator.callLog();
      // What AWS performed: a throttled call was refused and changed nothing (throttling is below).
      const performed = log.filter((c) => c.outcome === "ok");
      const principals = new Set(
        (await db.identity.findMany({ where: { email: { startsWith: "multi" } } })).map(
          (i) => i.identityStoreUserId,
        ),
      );
      expect(principals.size).toBe(USERS);
      const creates = countByPrincipal(performed, "CreateAccountAssignment");
      const deletes = countByPrincipal(performed, "DeleteAccountAssignment");
      const twice = [...principals].filter((p) => creates.get(p ?? "") !== 1 || deletes.get(p ?? "") !== 1);
      expect.soft(twice, await explain(twice.slice(0, 3), log)).toEqual([]);
      // Each removal came after its grant and after its lease's end: no opposite call out of turn.
      const leases = await db.lease.findMany({
        where: { requestId: { in: requestIds } },
        include: { assignment: { include: { identity: true } } },
      });
      for (const lease of leases) {
        const principal = lease.assignment.identity.identityStoreUserId ?? "";
        const created = performed.find(
          (c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === principal,
        );
        const deleted = performed.find(
          (c) => c.operation === "DeleteAccountAssignment" && c.input.PrincipalId === principal,
        );
        expect.soft(created?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(deleted?.at ?? 0);
        expect.soft(deleted?.at ?? 0).toBeGreaterThanOrEqual(lease.endsAt.getTime());
      }
      expect.soft((await emulator.assignments()).filter((a) => principals.has(a.principalId))).toEqual([]);

      // Inside the quota the whole time, and never throttled by it.
      const throttled = log
        .filter((c) => c.quotaExceeded || c.outcome === "ThrottlingException")
        .map((c) => `${new Date(c.at).toISOString()} ${c.operation} ${c.outcome}`);
      expect.soft(maxCallsInAnyWindow(log, 1000)).toBeLessThanOrEqual(20);
      expect.soft(throttled).toEqual([]);

      // Both processes took their share of the work.
      for (const worker of workers) {
        expect.soft(await completedReconciles(worker)).toBeGreaterThan(USERS / 10);
      }
    },
    12 * 60_000,
  );
});
