import { randomUUID } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type CallRecord, maxCallsInAnyWindow } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import type { Deps } from "@keyturn/usecases";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approveRequest,
  flowRules,
  numberedUsers,
  putTestFlow,
  useCaseDeps,
} from "./testing/access-world.js";
import { acceptedChanges, changesByPrincipal, unneededChanges } from "./testing/assignment-changes.js";
import { type ChildWorker, endChildWorkerTest, startChildWorker } from "./testing/child-worker.js";
import { type EmulatorProcess, startEmulatorProcess } from "./testing/emulator-process.js";
import { eventually } from "./worker-harness.js";

// Two worker processes (src/main.ts as deployed) on one queue, one database and one Redis prefix,
// against an AWS emulator that enforces Identity Center's quotas (20 calls/s shared by every API,
// 10 creations in flight): 250 requests approved, granted, expired and removed.
//
// Cost, as the reconciler stands: a grant is a lookup, a create and a status poll; a confirmed
// removal is a delete and a status poll. Some 1,300 Identity Center calls at the workers' shared
// 18 calls/s: no less than a minute and a quarter. 250 people (once 500) keep both workers busy at
// the quota for the whole run, which is what this test is about, at half the suite's time.
const USERS = 250;
// Short, so that removals start while grants are still being made, as they would in use.
const DURATION_S = 30;
// Requesters come back for access as soon as theirs ended: HOLDING of them hold it (or wait for
// it) at once, at most WAITING of them waiting for their grant. Why bounds: removals go first, so
// the grants waiting while many leases end together wait until those removals are done, and a grant
// that waits longer than its duration fails (correctly: its window ended), which is not what this
// test is about. Leases end at the pace they were granted, so a removal burst is at most HOLDING;
// the longest grant waits seen on this machine were 8-13 s, in the waves of removals. And
// HOLDING over a cycle of ~33 s (grant, duration, removal) keeps the workers near the quota.
const HOLDING = 90;
const WAITING = 12;
const QUOTA_PER_SECOND = 20;

const database = useTestDatabase();
const prefix = `kt-multi-${randomUUID().slice(0, 8)}`;
let emulator: EmulatorProcess;
let db: PrismaClient;
let deps: Deps;
let workers: ChildWorker[] = [];
let userIds: string[];

beforeAll(async () => {
  // In a process of its own, so that it times calls as the workers send them (see there).
  emulator = await startEmulatorProcess({ quotas: true });
  const seed = standardSeed();
  const users = numberedUsers(USERS, "multi");
  const seeded = await emulator.seed({ ...seed, users: [...(seed.users ?? []), ...users] });
  userIds = users.map((user) => {
    const id = seeded.users[user.userName];
    if (id === undefined) {
      throw new Error(`the emulator did not seed ${user.userName}`);
    }
    return id;
  });
  db = createPrismaClient({ databaseUrl: database.url });
  deps = useCaseDeps(db);
  await putTestFlow(deps, "s3", flowRules());
  // Set-up, not the path under test: each requester is already pinned to their Identity Center
  // user, as after their first request. Resolving 500 new users would be 1,500 more Identity Store
  // calls (two GetUserId and a DescribeUser each), another 80 s of quota; the reconciler's
  // resolution path has tests of its own (reconcile.int.test.ts).
  const now = new Date();
  await db.identity.createMany({
    data: users.map((user, i) => ({
      id: randomUUID(),
      email: user.emails?.[0] ?? "",
      identityStoreUserId: userIds[i] ?? null,
      pinnedAt: now,
    })),
  });
  // The deployed settings (sweep every 30 s, 32 jobs at once, outbox woken by NOTIFY), so that the
  // sweep is the safety net and not the path under test.
  workers = await Promise.all(
    [0, 1].map(() =>
      startChildWorker({
        databaseUrl: database.url,
        emulator,
        prefix,
        sweepIntervalSeconds: 30,
        concurrency: 32,
        outboxPollMs: 1000,
      }),
    ),
  );
});

afterAll(async () => {
  await endChildWorkerTest(prefix);
  await db?.$disconnect();
  await emulator?.close();
});

const OPEN = ["pending", "approved", "active"] as const;

async function statusCounts(): Promise<string> {
  const rows = await db.accessRequest.groupBy({ by: ["status"], _count: true, orderBy: { status: "asc" } });
  return rows.map((row) => `${row.status} ${row._count}`).join(", ");
}

/** Reconcile jobs still queued, running or backing off (a "busy" retry); lease ends are all past. */
async function reconcilesLeft(queue: Queue): Promise<number> {
  const jobs = await queue.getJobs(["waiting", "prioritized", "active", "delayed"]);
  return jobs.filter((job) => job.name === "assignment.reconcile").length;
}

async function completedReconciles(worker: ChildWorker): Promise<number> {
  const metrics = await (await fetch(`${worker.healthUrl}/metrics`)).text();
  const line = /keyturn_worker_jobs_total\{name="assignment.reconcile",outcome="completed"\} (\d+)/.exec(
    metrics,
  );
  return Number(line?.[1] ?? 0);
}

/** For a failure: what AWS was asked, and what the database recorded, for a few principals. */
async function explain(principals: readonly string[], log: readonly CallRecord[]): Promise<string> {
  const lines: string[] = [];
  for (const principal of principals.slice(0, 3)) {
    const identity = await db.identity.findFirst({ where: { identityStoreUserId: principal } });
    const assignment = await db.assignment.findFirst({
      where: { identityId: identity?.id ?? "" },
      include: { attempts: { orderBy: { startedAt: "asc" } }, leases: true },
    });
    lines.push(`principal ${principal} (${identity?.email}), assignment ${assignment?.id}:`);
    for (const call of log.filter((c) => c.input.PrincipalId === principal)) {
      lines.push(`  ${new Date(call.at).toISOString()} ${call.operation} ${call.outcome} ${call.requestId}`);
    }
    for (const attempt of assignment?.attempts ?? []) {
      lines.push(
        `  attempt ${attempt.operation} ${attempt.outcome} ${attempt.startedAt.toISOString()}..${attempt.finishedAt.toISOString()} ${attempt.awsRequestId}`,
      );
    }
    for (const lease of assignment?.leases ?? []) {
      lines.push(`  lease ${lease.startsAt.toISOString()}..${lease.endsAt.toISOString()}`);
      const events = await db.auditEvent.findMany({
        where: { requestId: lease.requestId },
        orderBy: { seq: "asc" },
      });
      lines.push(`  request ${events.map((e) => `${e.action}@${e.at.toISOString()}`).join(" ")}`);
    }
  }
  return lines.join("\n");
}

/** Approves the USERS requests as room is made by leases ending (see HOLDING and WAITING). */
async function approveAsAccessEnds(): Promise<string[]> {
  const requestIds: string[] = [];
  while (requestIds.length < USERS) {
    const room = await eventually(
      async () => {
        const counts = await db.accessRequest.groupBy({
          by: ["status"],
          _count: true,
          where: { status: { in: ["approved", "active"] } },
        });
        const count = (status: string) => counts.find((c) => c.status === status)?._count ?? 0;
        const room = Math.min(HOLDING - count("approved") - count("active"), WAITING - count("approved"));
        return room > 0 ? room : false;
      },
      3 * 60_000,
      200,
    ).catch(async (error: unknown) => {
      throw new Error(`no grant or removal for 3 minutes (${await statusCounts()})`, { cause: error });
    });
    const batch = Array.from(
      { length: Math.min(room, USERS - requestIds.length) },
      (_, i) => requestIds.length + i,
    );
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
  return requestIds;
}

/** For a failure: the calls in the busiest 1 s window, with the gap before each. */
function busiestWindow(log: readonly CallRecord[]): string {
  const calls = log
    .filter((c) => c.service === "sso-admin" || c.service === "identitystore")
    .sort((a, b) => a.at - b.at);
  let best = { start: 0, end: 0 };
  for (let start = 0, end = 0; end < calls.length; end++) {
    while ((calls[start]?.at ?? 0) <= (calls[end]?.at ?? 0) - 1000) {
      start++;
    }
    if (end - start > best.end - best.start) {
      best = { start, end };
    }
  }
  return calls
    .slice(best.start, best.end + 1)
    .map(
      (c, i, all) =>
        `  ${new Date(c.at).toISOString()} +${c.at - (all[i - 1]?.at ?? c.at)} ms ${c.operation} ${c.outcome}`,
    )
    .join("\n");
}

describe("two worker processes on one queue", () => {
  it(
    `grant ${USERS} and remove ${USERS} with each AWS change asked for once, inside the quota`,
    async () => {
      const requestIds = await approveAsAccessEnds();

      await eventually(
        async () => (await db.accessRequest.count({ where: { status: { in: [...OPEN] } } })) === 0,
        4 * 60_000,
        500,
      ).catch(async (error: unknown) => {
        throw new Error(`requests still open: ${await statusCounts()}`, { cause: error });
      });
      // What runs after the last expiry (each expiry's follow-up reconcile, "busy" retries) must
      // have run too, so that a late duplicate call would be in the log.
      const connection = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
      const queue = new Queue("keyturn", { connection, prefix });
      try {
        await eventually(
          async () =>
            (await db.outboxMessage.count({ where: { sentAt: null } })) === 0 &&
            (await reconcilesLeft(queue)) === 0,
          60_000,
          200,
        );
        // Soft: the checks below are independent, and one run should report every one that fails.
        const failedJobs = await queue.getJobs(["failed"]);
        expect
          .soft(failedJobs.map((job) => `${job.name} ${JSON.stringify(job.data)}: ${job.failedReason}`))
          .toEqual([]);
      } finally {
        await queue.close();
        await connection.quit();
      }

      expect.soft(await statusCounts()).toBe(`expired ${USERS}`);

      // Every create and delete AWS accepted was a change that was needed, and each principal had
      // exactly one of each: granted once, removed once.
      const log = await emulator.callLog();
      const changes = acceptedChanges(log);
      const unneeded = unneededChanges(changes);
      expect
        .soft(
          unneeded.map((c) => `${new Date(c.at).toISOString()} ${c.operation} ${c.key}`),
          await explain([...new Set(unneeded.map((c) => c.principalId))], log),
        )
        .toEqual([]);
      const byPrincipal = changesByPrincipal(changes);
      const notOnce = userIds.filter(
        (id) =>
          (byPrincipal.get(id) ?? []).map((c) => c.operation).join(",") !==
          "CreateAccountAssignment,DeleteAccountAssignment",
      );
      expect.soft(notOnce, await explain(notOnce, log)).toEqual([]);
      expect.soft(changes.length).toBe(2 * USERS);
      const ours = new Set(userIds);
      expect.soft((await emulator.assignments()).filter((a) => ours.has(a.principalId))).toEqual([]);

      // No removal before its lease's end.
      const leases = await db.lease.findMany({ include: { assignment: { include: { identity: true } } } });
      expect.soft(leases.length).toBe(USERS);
      const early = leases.flatMap((lease) => {
        const principal = lease.assignment.identity.identityStoreUserId ?? "";
        const deleted = byPrincipal.get(principal)?.find((c) => c.operation === "DeleteAccountAssignment");
        return deleted !== undefined && deleted.at < lease.endsAt.getTime()
          ? [
              `${principal}: deleted ${new Date(deleted.at).toISOString()}, lease ends ${lease.endsAt.toISOString()}`,
            ]
          : [];
      });
      expect.soft(early).toEqual([]);

      // What the workers recorded agrees: one successful create and delete per assignment, audited once each.
      const attempts = await db.reconcileAttempt.groupBy({
        by: ["operation", "outcome"],
        _count: true,
        orderBy: [{ operation: "asc" }, { outcome: "asc" }],
      });
      expect
        .soft(attempts.map((a) => `${a.operation} ${a.outcome} ${a._count}`))
        .toEqual([`create succeeded ${USERS}`, `delete succeeded ${USERS}`]);
      const audited = await db.auditEvent.findMany({
        where: { action: { startsWith: "assignment." } },
        select: { action: true, data: true },
      });
      const auditCounts = new Map<string, number>();
      for (const event of audited) {
        const assignmentId = (event.data as { assignmentId?: string }).assignmentId;
        const key = `${event.action} ${assignmentId}`;
        auditCounts.set(key, (auditCounts.get(key) ?? 0) + 1);
      }
      const assignmentIds = [...new Set(leases.map((lease) => lease.assignmentId))];
      expect.soft(assignmentIds.length).toBe(USERS);
      // The emulator answers creates and deletes IN_PROGRESS, so each change is audited when asked
      // for (create_requested, delete_requested) and when AWS confirmed it (created, deleted).
      const misaudited = assignmentIds.filter(
        (id) =>
          auditCounts.get(`assignment.create_requested ${id}`) !== 1 ||
          auditCounts.get(`assignment.created ${id}`) !== 1 ||
          auditCounts.get(`assignment.delete_requested ${id}`) !== 1 ||
          auditCounts.get(`assignment.deleted ${id}`) !== 1,
      );
      expect.soft(misaudited).toEqual([]);
      expect.soft(audited.length).toBe(4 * USERS);
      const requestEvents = await db.auditEvent.findMany({
        where: { requestId: { in: requestIds } },
        orderBy: { seq: "asc" },
        select: { requestId: true, action: true },
      });
      const lifecycles = new Map<string, string[]>();
      for (const event of requestEvents) {
        lifecycles.set(event.requestId ?? "", [
          ...(lifecycles.get(event.requestId ?? "") ?? []),
          event.action,
        ]);
      }
      const unusual = requestIds.filter(
        (id) =>
          (lifecycles.get(id) ?? []).join(",") !==
          "request.submitted,request.approved,request.activated,request.expired",
      );
      expect.soft(unusual.map((id) => `${id}: ${lifecycles.get(id)?.join(",")}`)).toEqual([]);

      // Inside the quota the whole time, and never throttled by it.
      const throttled = log
        .filter((c) => c.quotaExceeded || c.outcome === "ThrottlingException")
        .map((c) => `${new Date(c.at).toISOString()} ${c.operation} ${c.outcome}`);
      expect
        .soft(maxCallsInAnyWindow(log, 1000), `busiest window:\n${busiestWindow(log)}`)
        .toBeLessThanOrEqual(QUOTA_PER_SECOND);
      expect.soft(throttled).toEqual([]);

      // Both processes took their share of the work.
      for (const worker of workers) {
        expect.soft(await completedReconciles(worker)).toBeGreaterThan(USERS / 10);
      }
    },
    12 * 60_000,
  );
});
