import { randomUUID } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import type { Deps } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowRules, numberedUsers, putTestFlow, useCaseDeps } from "./testing/access-world.js";
import { expectEveryApprovalAppliedOnce, submitAndApprove } from "./testing/approval-burst.js";
import { type ChildWorker, endChildWorkerTest, startChildWorker } from "./testing/child-worker.js";
import { type PrivatePostgres, startPrivatePostgres } from "./testing/private-postgres.js";
import { eventually } from "./worker-harness.js";

// "Restart PostgreSQL during a burst of approvals", for real: a server of this file's own
// (testing/private-postgres.ts) is restarted with pg_ctl while approvals arrive and the worker
// grants them. postgres-outage.int.test.ts covers the same on the shared server by killing
// connections, which also reaches the states a restart's ECONNREFUSED window does not.
const APPROVALS = 40;

const prefix = `kt-pgr-${randomUUID().slice(0, 8)}`;
let server: PrivatePostgres;
let emulator: AwsEmulator;
let db: PrismaClient;
let deps: Deps;
let worker: ChildWorker;

beforeAll(async () => {
  server = await startPrivatePostgres();
  emulator = await startAwsEmulator({ assignmentDelayMs: 50 });
  const seed = standardSeed();
  emulator.seed({ ...seed, users: [...(seed.users ?? []), ...numberedUsers(APPROVALS + 1, "burst")] });
  db = createPrismaClient({ databaseUrl: server.url });
  deps = useCaseDeps(db);
  await putTestFlow(deps, "s3", flowRules());
  worker = await startChildWorker({ databaseUrl: server.url, emulator, prefix });
}, 120_000);

afterAll(async () => {
  await endChildWorkerTest(prefix);
  await db?.$disconnect();
  await emulator?.close();
  await server?.stop();
});

const startedAt = async () =>
  (await db.$queryRaw<{ at: Date }[]>`SELECT pg_postmaster_start_time() AS at`)[0]?.at.getTime() ?? 0;

describe("PostgreSQL restarted during a burst of approvals", () => {
  it("loses no approval, applies none twice, and the worker carries on without a restart", async () => {
    const retries = { count: 0 };
    const before = await startedAt();
    // Approvals arrive over four seconds; the server restarts twice while they do.
    const approvals = Promise.all(
      Array.from({ length: APPROVALS }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 100));
        return submitAndApprove({ deps, db }, i, retries);
      }),
    );
    // Awaited below; a rejection while the server is down must not go unhandled.
    approvals.catch(() => undefined);
    await eventually(async () => (await db.accessRequest.count().catch(() => 0)) >= APPROVALS / 4, 120_000);
    await server.restart();
    await eventually(
      async () => (await db.accessRequest.count().catch(() => 0)) >= (APPROVALS * 3) / 4,
      120_000,
    );
    await server.restart();
    const requestIds = await approvals;

    // The restarts were real, and the clients saw them.
    expect(await startedAt()).toBeGreaterThan(before);
    expect(retries.count).toBeGreaterThan(0);

    await expectEveryApprovalAppliedOnce({ db, emulator, requestIds, workerOutput: () => worker.output() });

    // The same worker process, healthy and ready, takes new work.
    expect(await Promise.race([worker.exited, Promise.resolve(undefined)])).toBeUndefined();
    expect(await (await fetch(`${worker.healthUrl}/readyz`)).json()).toMatchObject({
      status: "ready",
      checks: { postgres: true, redis: true },
    });
    const after = await submitAndApprove({ deps, db }, APPROVALS, retries);
    await eventually(
      async () => (await db.accessRequest.findUniqueOrThrow({ where: { id: after } })).status === "active",
      120_000,
    );
  }, 400_000);
});
