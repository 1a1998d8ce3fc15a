import { randomUUID } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import type { Deps } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { flowRules, numberedUsers, putTestFlow, useCaseDeps } from "./testing/access-world.js";
import { expectEveryApprovalAppliedOnce, submitAndApprove } from "./testing/approval-burst.js";
import { type ChildWorker, endChildWorkerTest, startChildWorker } from "./testing/child-worker.js";
import { eventually } from "./worker-harness.js";

// "Restart PostgreSQL during a burst of approvals", for this file's database only: the cluster is
// shared with the other test files, so instead of restarting the server its backends for this
// database are terminated, again and again. For the worker's connections that is what a restart
// is: a fast shutdown sends every backend the same signal pg_terminate_backend does (the client
// reads 57P01 admin_shutdown, or finds its socket closed mid-query or mid-transaction), and every
// pooled connection, the relay's LISTEN connection included, is gone. While the server is down
// a restart refuses new connections (ECONNREFUSED); here, during the storm, new connections are
// accepted and killed again within milliseconds, which fails the same calls.
const APPROVALS = 50;

const database = useTestDatabase();
const prefix = `kt-pg-${randomUUID().slice(0, 8)}`;
let emulator: AwsEmulator;
let db: PrismaClient;
let admin: PrismaClient;
let deps: Deps;
let worker: ChildWorker;

beforeAll(async () => {
  emulator = await startAwsEmulator({ assignmentDelayMs: 50 });
  const seed = standardSeed();
  emulator.seed({ ...seed, users: [...(seed.users ?? []), ...numberedUsers(APPROVALS + 1, "burst")] });
  db = createPrismaClient({ databaseUrl: database.url });
  admin = createPrismaClient({ databaseUrl: inject("testDatabaseAdminUrl") });
  deps = useCaseDeps(db);
  await putTestFlow(deps, "s3", flowRules());
  worker = await startChildWorker({ databaseUrl: database.url, emulator, prefix });
});

afterAll(async () => {
  await endChildWorkerTest(prefix);
  await db?.$disconnect();
  await admin?.$disconnect();
  await emulator?.close();
});

/** Terminates every backend connected to the test database; resolves with how many there were. */
async function terminateBackends(): Promise<number> {
  const rows = await admin.$queryRaw<{ terminated: boolean }[]>`
    SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
    WHERE datname = ${database.name} AND pid <> pg_backend_pid()`;
  return rows.filter((row) => row.terminated).length;
}

/** Kills for `forMs`, every `everyMs`: spaced out it is a flapping server, every 20 ms it is down. */
async function killRepeatedly(forMs: number, everyMs: number): Promise<number> {
  let killed = 0;
  for (const end = Date.now() + forMs; Date.now() < end; ) {
    killed += await terminateBackends();
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return killed;
}

describe("a PostgreSQL outage during a burst of approvals", () => {
  it("loses no approval, applies none twice, and the worker carries on without a restart", async () => {
    const retries = { count: 0 };
    // Approvals arrive over five seconds while the database flaps, goes down, and flaps again.
    const approvals = Promise.all(
      Array.from({ length: APPROVALS }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 100));
        return submitAndApprove({ deps, db }, i, retries);
      }),
    );
    // Awaited below; a rejection while the database is still being killed must not go unhandled.
    approvals.catch(() => undefined);
    const killed =
      (await killRepeatedly(1_500, 150)) +
      (await killRepeatedly(2_000, 20)) +
      (await killRepeatedly(2_000, 150));
    const requestIds = await approvals;

    // The outage was real: connections died under the worker and under the clients.
    expect(killed).toBeGreaterThan(20);
    expect(retries.count).toBeGreaterThan(0);

    await expectEveryApprovalAppliedOnce({ db, emulator, requestIds, workerOutput: () => worker.output() });

    // The same worker process is still there, healthy, ready, and takes new work.
    const exitedMeanwhile = await Promise.race([worker.exited, Promise.resolve(undefined)]);
    expect(exitedMeanwhile).toBeUndefined();
    expect((await fetch(`${worker.healthUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${worker.healthUrl}/readyz`)).json()).toMatchObject({
      status: "ready",
      checks: { postgres: true, redis: true },
    });
    const after = await submitAndApprove({ deps, db }, APPROVALS, retries);
    await eventually(
      async () => (await db.accessRequest.findUniqueOrThrow({ where: { id: after } })).status === "active",
    );
  }, 400_000);
});
