import { randomUUID } from "node:crypto";
import { createIdentityCenter } from "@keyturn/aws";
import {
  type AssignmentClaimsHandle,
  createAssignmentClaims,
  createPrismaClient,
  createUnitOfWork,
  type PrismaClient,
} from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator, testFlowRules } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  AppError,
  emptyReport,
  putFlow,
  type ReconcileDeps,
  type ReconcileReport,
  reconcileAssignment,
} from "@keyturn/usecases";
import { afterAll, beforeAll, expect } from "vitest";
import { approveRequest } from "./testing/access-world.js";

export { ACCOUNT, approver, person } from "./testing/access-world.js";

export const bulkUsers = Array.from({ length: 200 }, (_, i) => ({
  userName: `user${i}`,
  emails: [`user${i}@example.com`],
}));

const flowRules = testFlowRules();

export type ReconcileWorld = {
  databaseUrl: string;
  db: PrismaClient;
  emulator: AwsEmulator;
  deps: ReconcileDeps;
  /**
   * The reconciler's dependencies as another worker process has them: its own claims (its own
   * PostgreSQL session), closed after the file's tests.
   */
  otherWorker(): ReconcileDeps;
  approve(email: string): Promise<{ requestId: string; assignmentId: string }>;
  reconcileUntilSettled(assignmentId: string): ReturnType<typeof reconcileUntilSettled>;
};

export async function reconcileUntilSettled(deps: ReconcileDeps, assignmentId: string, maxRuns = 40) {
  // What the worker's job does: run again while AWS says "later" (throttled, conflict, busy), and
  // after the delay a run asks for while AWS carries out a deletion. The report sums up the runs.
  const total: ReconcileReport = emptyReport();
  for (let run = 1; ; run++) {
    try {
      const result = await reconcileAssignment(deps, { assignmentId });
      if (!result.ok) {
        throw new Error(result.error.message);
      }
      const report = result.value;
      total.actions.push(...report.actions);
      total.activated.push(...report.activated);
      total.expired.push(...report.expired);
      total.failed.push(...report.failed);
      total.repinned.push(...report.repinned);
      if ((report.outcome === "pending" || report.outcome === "busy") && run < maxRuns) {
        const delay = report.outcome === "busy" ? 50 : (report.retryAfterMs ?? 0);
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      if (report.outcome !== "busy") {
        return {
          ...total,
          outcome: report.outcome,
          ...(report.desired === undefined ? {} : { desired: report.desired }),
        };
      }
    } catch (error) {
      // As the worker's job does: only an AppError that says so is final; anything else (a busy
      // database, a lost connection) comes back after backoff.
      if ((error instanceof AppError && !error.retryable) || run >= maxRuns) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A database of its own, an AWS emulator seeded with a small Identity Center, and the reconciler's
 * dependencies wired to both over the real adapters. Read it inside tests (after beforeAll).
 */
export function useReconcileWorld(): ReconcileWorld {
  const database = useTestDatabase();
  let world: ReconcileWorld | undefined;
  const claims: AssignmentClaimsHandle[] = [];
  const newClaims = () => {
    const handle = createAssignmentClaims({ databaseUrl: database.url });
    claims.push(handle);
    return handle;
  };
  beforeAll(async () => {
    const db = createPrismaClient({ databaseUrl: database.url });
    const emulator = await startAwsEmulator({ seed: 7, assignmentDelayMs: 20 });
    const seed = standardSeed();
    const named = ["dave", "erin"].map((name) => ({ userName: name, emails: [`${name}@example.com`] }));
    emulator.seed({ ...seed, users: [...(seed.users ?? []), ...named, ...bulkUsers] });
    const identityCenter = createIdentityCenter({
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "x" },
      pollIntervalMs: 20,
    });
    const clock = { now: () => new Date() };
    const ids = { uuid: randomUUID };
    const deps: ReconcileDeps = {
      uow: createUnitOfWork(db, { clock, ids }),
      clock,
      ids,
      identityCenter,
      claims: newClaims(),
    };
    expect(
      (await putFlow(deps, { name: "s3", rules: flowRules, by: { type: "system", id: "test" } })).ok,
    ).toBe(true);
    world = {
      databaseUrl: database.url,
      db,
      emulator,
      deps,
      otherWorker: () => ({ ...deps, claims: newClaims() }),
      async approve(email) {
        const requestId = await approveRequest(deps, { flowName: "s3", email, durationSeconds: 3600 });
        const lease = await db.lease.findUniqueOrThrow({ where: { requestId } });
        return { requestId, assignmentId: lease.assignmentId };
      },
      reconcileUntilSettled: (assignmentId) => reconcileUntilSettled(deps, assignmentId),
    };
  });
  afterAll(async () => {
    await Promise.all(claims.map((handle) => handle.close()));
    await world?.emulator.close();
    await world?.db.$disconnect();
  });
  return new Proxy({} as ReconcileWorld, {
    get(_target, key) {
      if (world === undefined) {
        throw new Error("useReconcileWorld(): available once beforeAll has run");
      }
      return world[key as keyof ReconcileWorld];
    },
  });
}
