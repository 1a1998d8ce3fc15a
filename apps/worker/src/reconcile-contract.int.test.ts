import { randomUUID } from "node:crypto";
import { ListAccountAssignmentsCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { createIdentityCenter, createRateLimiter, type IdentityCenterAdapter } from "@keyturn/aws";
import {
  type AssignmentClaimsHandle,
  createAssignmentClaims,
  createPrismaClient,
  createUnitOfWork,
  type PrismaClient,
} from "@keyturn/db";
import {
  IDENTITY_CENTER_BACKENDS,
  type IdentityCenterBackend,
  type SeededIdentityCenter,
} from "@keyturn/testkit/aws-backends";
import { useTestDatabase } from "@keyturn/testkit/database";
import type { ReconcileDeps } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileUntilSettled } from "./test-support.js";
import { ACCOUNT, approveRequest, auditActions, flowRules, putTestFlow } from "./testing/access-world.js";

// The reconciler's whole life of a grant, grant -> expiry -> removal, over the real Identity
// Center adapter against the project's emulator and against moto, with the same assertions: what
// the reconciler decides must not depend on whose reading of AWS answers it. Time is a clock of
// the test's own, so the lease ends when the test says, however fast the machine is. What AWS
// holds is read back through the SDK, not through either emulator's own view.

const database = useTestDatabase();
let db: PrismaClient;

beforeAll(() => {
  db = createPrismaClient({ databaseUrl: database.url });
});

afterAll(async () => {
  await db?.$disconnect();
});

describe.each(IDENTITY_CENTER_BACKENDS)("the reconciler against $name", ({ name, start }) => {
  // Each backend gets people of its own: identities are pinned per email in the shared database.
  const tag = name === "moto" ? "moto" : "testkit";
  const email = `alice-${tag}@example.com`;
  const flowName = `s3-${tag}`;
  let backend: IdentityCenterBackend;
  let seeded: SeededIdentityCenter;
  let identityCenter: IdentityCenterAdapter;
  let ssoAdmin: SSOAdminClient;
  let offsetMs = 0;
  let deps: ReconcileDeps;
  let claims: AssignmentClaimsHandle;

  beforeAll(async () => {
    backend = await start();
    seeded = await backend.seed({
      accounts: [ACCOUNT],
      users: [{ userName: `alice-${tag}`, emails: [email] }],
      permissionSets: [{ name: "S3Access", sessionDuration: "PT1H" }],
    });
    identityCenter = createIdentityCenter({
      region: backend.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
      limiter: createRateLimiter({ callsPerSecond: 1000, burst: 100 }),
      pollIntervalMs: 10,
    });
    ssoAdmin = new SSOAdminClient({
      region: backend.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
      maxAttempts: 1,
    });
    // The test's clock: real time plus whatever the test has moved it on by.
    const clock = { now: () => new Date(Date.now() + offsetMs) };
    const ids = { uuid: randomUUID };
    claims = createAssignmentClaims({ databaseUrl: database.url });
    deps = {
      uow: createUnitOfWork(db, { clock, ids }),
      clock,
      ids,
      identityCenter,
      claims,
    };
    await putTestFlow(deps, flowName, flowRules());
  }, 120_000);

  afterAll(async () => {
    ssoAdmin?.destroy();
    identityCenter?.close();
    await claims?.close();
    await backend?.close();
  });

  /** The principals AWS holds the set for in the account, as ListAccountAssignments answers. */
  async function principalsInAws(): Promise<string[]> {
    const page = await ssoAdmin.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: seeded.instanceArn,
        AccountId: ACCOUNT,
        PermissionSetArn: seeded.permissionSets.S3Access,
        MaxResults: 100,
      }),
    );
    return (page.AccountAssignments ?? []).map((a) => a.PrincipalId ?? "");
  }

  it("grants an approved request, keeps it until its end, then removes it and expires the request", async () => {
    const principal = seeded.users[`alice-${tag}`] ?? "";
    const requestId = await approveRequest(deps, { flowName, email, durationSeconds: 600 });
    const { assignmentId } = await db.lease.findUniqueOrThrow({ where: { requestId } });

    // Grant: the principal is pinned, the assignment created, the request active for 600 s.
    const granted = await reconcileUntilSettled(deps, assignmentId);
    expect(granted.actions).toEqual(["pinned_principal", "created"]);
    expect(granted.activated).toEqual([requestId]);
    expect(await principalsInAws()).toEqual([principal]);
    const active = await db.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(active.status).toBe("active");
    // Ten minutes from activation, ending on the whole second.
    const activeFrom = active.activatedAt?.getTime() ?? 0;
    expect(active.expiresAt?.getTime()).toBe(Math.floor((activeFrom + 600_000) / 1000) * 1000);
    expect((await db.identity.findUniqueOrThrow({ where: { email } })).identityStoreUserId).toBe(principal);

    // A minute before its end (whatever time the steps above took), a run changes nothing.
    const expiresAt = active.expiresAt?.getTime() ?? 0;
    offsetMs = expiresAt - 60_000 - Date.now();
    expect((await reconcileUntilSettled(deps, assignmentId)).actions).toEqual([]);
    expect(await principalsInAws()).toEqual([principal]);

    // A minute after it: removed in AWS, the request expired, each step audited.
    offsetMs = expiresAt + 60_000 - Date.now();
    const removed = await reconcileUntilSettled(deps, assignmentId);
    expect(removed.actions, JSON.stringify(removed)).toEqual(["deleted"]);
    expect(removed.expired, JSON.stringify(removed)).toEqual([requestId]);
    expect(await principalsInAws()).toEqual([]);
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe("expired");
    const attempts = await db.reconcileAttempt.findMany({
      where: { assignmentId },
      orderBy: { startedAt: "asc" },
    });
    expect(attempts.map((a) => [a.operation, a.outcome])).toEqual([
      ["create", "succeeded"],
      ["delete", "succeeded"],
    ]);
    expect(await auditActions(db, requestId)).toEqual(
      expect.arrayContaining(["request.approved", "request.activated", "request.expired"]),
    );

    // And a later run finds nothing to do.
    expect((await reconcileUntilSettled(deps, assignmentId)).actions).toEqual([]);
  });

  it("ends a lease whose assignment someone already removed outside Keyturn", async () => {
    offsetMs = 0;
    const bobEmail = `bob-${tag}@example.com`;
    await backend.seed({
      accounts: [ACCOUNT],
      users: [{ userName: `bob-${tag}`, emails: [bobEmail] }],
      permissionSets: [],
    });
    const requestId = await approveRequest(deps, { flowName, email: bobEmail, durationSeconds: 600 });
    const { assignmentId } = await db.lease.findUniqueOrThrow({ where: { requestId } });
    expect((await reconcileUntilSettled(deps, assignmentId)).actions).toContain("created");
    const target = {
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId:
        (await db.identity.findUniqueOrThrow({ where: { email: bobEmail } })).identityStoreUserId ?? "",
    };
    expect((await identityCenter.deleteAssignment(target)).status).toBe("SUCCEEDED");

    const { expiresAt } = await db.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
    offsetMs = (expiresAt?.getTime() ?? 0) + 60_000 - Date.now();
    const report = await reconcileUntilSettled(deps, assignmentId);
    expect(report.expired).toEqual([requestId]);
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe("expired");
    expect(await principalsInAws()).toEqual([]);
  });
});
