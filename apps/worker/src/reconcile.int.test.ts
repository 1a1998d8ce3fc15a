import { GetObjectCommand, PutBucketPolicyCommand } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { createIdentityCenter } from "@keyturn/aws";
import type { AssignmentClaimsHandle } from "@keyturn/db";
import { assignmentsNeedingReconcile } from "@keyturn/db";
import { ADMIN_KEY, portalClient, s3Client, sessionS3Client } from "@keyturn/testkit/aws-test-clients";
import { type ReconcileDeps, reconcileAssignment, revokeRequest, scanDrift } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { ACCOUNT, approver, person, reconcileUntilSettled, useReconcileWorld } from "./test-support.js";
import { approveRequest } from "./testing/access-world.js";

const world = useReconcileWorld();
const assignmentsOf = (userId: string) =>
  world.emulator.assignments().filter((a) => a.principalId === userId && a.accountId === ACCOUNT);
const userId = async (email: string) =>
  (await world.db.identity.findUniqueOrThrow({ where: { email } })).identityStoreUserId ?? "unpinned";
const request = (id: string) => world.db.accessRequest.findUniqueOrThrow({ where: { id } });
type DeathPoint = "before-send" | "before-id-saved" | "after-id-saved";

/**
 * A worker process that dies at a point of its create: its own claims session (closed to die, so
 * PostgreSQL drops its lock as it would for a killed process) and its own Identity Center adapter
 * (whose creation slot dies with it). Its run never returns, as a killed process's would not.
 */
function dyingWorker(at: DeathPoint) {
  const identityCenter = createIdentityCenter({
    region: world.emulator.region,
    endpoint: world.emulator.endpoint,
    credentials: { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "x" },
    pollIntervalMs: 20,
  });
  const deps = world.otherWorker();
  let died: () => void = () => undefined;
  const dead = new Promise<void>((resolve) => {
    died = resolve;
  });
  const die = (): Promise<never> => {
    died();
    return new Promise<never>(() => undefined);
  };
  const dying: ReconcileDeps = {
    ...deps,
    identityCenter: {
      ...identityCenter,
      createAssignment: (target, hooks) =>
        identityCenter.createAssignment(target, {
          beforeSend: async () => {
            const check = await hooks?.beforeSend?.();
            if (at === "before-send") {
              await die();
            }
            return check;
          },
          accepted: async (status) => {
            if (at === "after-id-saved") {
              await hooks?.accepted?.(status);
            }
            await die();
          },
        }),
    },
  };
  return {
    /** Starts its run and resolves once it has died (its claim gone with its session). */
    async run(assignmentId: string): Promise<void> {
      void reconcileAssignment(dying, { assignmentId });
      await dead;
      await (deps.claims as AssignmentClaimsHandle).close();
      identityCenter.close();
    },
  };
}

const creates = (principal: string) =>
  world.emulator
    .callLog()
    .filter((c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === principal);

async function assignmentTrail(assignmentId: string) {
  const events = await world.db.auditEvent.findMany({
    where: { action: { startsWith: "assignment." } },
    orderBy: { seq: "asc" },
  });
  return events
    .filter((e) => (e.data as { assignmentId?: string }).assignmentId === assignmentId)
    .map((e) => [e.action, (e.data as { awsRequestId?: string | null }).awsRequestId ?? null]);
}

describe("the assignment reconciler against the AWS emulator", () => {
  it("grants on approval with the clock starting at activation, and removes on revoke", async () => {
    const { requestId, assignmentId } = await world.approve("alice@example.com");
    const before = Date.now();
    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.actions).toEqual(["pinned_principal", "created"]);
    expect(report.activated).toEqual([requestId]);
    expect(assignmentsOf(await userId("alice@example.com"))).toHaveLength(1);
    const active = await request(requestId);
    expect(active.status).toBe("active");
    const activatedAt = active.activatedAt?.getTime() ?? 0;
    expect(activatedAt).toBeGreaterThanOrEqual(before);
    // The hour from activation, ending on the whole second (where a pre-armed cut-off starts).
    expect(active.expiresAt?.getTime()).toBe(Math.floor((activatedAt + 3600_000) / 1000) * 1000);
    const attempts = await world.db.reconcileAttempt.findMany({ where: { assignmentId } });
    expect(attempts).toEqual([
      expect.objectContaining({
        operation: "create",
        outcome: "succeeded",
        awsRequestId: expect.any(String),
      }),
    ]);

    const revoked = await revokeRequest(world.deps, {
      requestId,
      by: person("alice@example.com"),
      asAdmin: false,
    });
    expect(revoked.ok).toBe(true);
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual(["deleted"]);
    expect(assignmentsOf(await userId("alice@example.com"))).toHaveLength(0);
    expect((await request(requestId)).status).toBe("revoked");
  });

  it("asks beforeCreate, under the claim, right before every create and never for a removal", async () => {
    const { requestId, assignmentId } = await world.approve("user150@example.com");
    const asked: Array<{ assignmentId: string; heldByThisRun: boolean; inAws: number }> = [];
    const deps: ReconcileDeps = {
      ...world.deps,
      beforeCreate: async (id) => {
        // Another worker trying now finds the assignment busy: the hook runs inside the claim.
        const other = await reconcileAssignment(world.otherWorker(), { assignmentId: id });
        asked.push({
          assignmentId: id,
          heldByThisRun: other.ok && other.value.outcome === "busy",
          inAws: assignmentsOf(await userId("user150@example.com")).length,
        });
      },
    };
    expect((await reconcileUntilSettled(deps, assignmentId)).actions).toContain("created");
    expect(asked).toEqual([{ assignmentId, heldByThisRun: true, inAws: 0 }]);

    await revokeRequest(world.deps, { requestId, by: person("user150@example.com"), asAdmin: false });
    expect((await reconcileUntilSettled(deps, assignmentId)).actions).toEqual(["deleted"]);
    expect(asked).toHaveLength(1);
  });

  it("keeps an assignment two requests share until the last one ends", async () => {
    const first = await world.approve("bob@example.com");
    const second = await world.approve("bob@example.com");
    expect(second.assignmentId).toBe(first.assignmentId);
    await world.reconcileUntilSettled(first.assignmentId);
    expect((await request(first.requestId)).status).toBe("active");
    expect((await request(second.requestId)).status).toBe("active");

    await revokeRequest(world.deps, { requestId: first.requestId, by: approver, asAdmin: false });
    expect((await world.reconcileUntilSettled(first.assignmentId)).actions).toEqual([]);
    expect(assignmentsOf(await userId("bob@example.com"))).toHaveLength(1);

    await revokeRequest(world.deps, { requestId: second.requestId, by: approver, asAdmin: false });
    expect((await world.reconcileUntilSettled(first.assignmentId)).actions).toEqual(["deleted"]);
    expect(assignmentsOf(await userId("bob@example.com"))).toHaveLength(0);
  });

  it("never deletes an assignment that existed before Keyturn", async () => {
    world.emulator.seed({
      assignments: [{ accountId: ACCOUNT, permissionSet: "S3Access", principal: { userName: "carol" } }],
    });
    const { requestId, assignmentId } = await world.approve("carol@example.com");
    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.actions).toContain("marked_preexisting");
    expect((await request(requestId)).status).toBe("active");
    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual([]);
    expect(assignmentsOf(await userId("carol@example.com"))).toHaveLength(1);
    expect((await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } })).origin).toBe(
      "preexisting",
    );
  });

  it("removes an ended lease with the delete alone, and its follow-up run asks AWS nothing", async () => {
    const { requestId, assignmentId } = await world.approve("user10@example.com");
    await world.reconcileUntilSettled(assignmentId);
    const principal = await userId("user10@example.com");
    const callsFor = () =>
      world.emulator
        .callLog()
        .filter((c) => c.input.PrincipalId === principal || c.operation.endsWith("DeletionStatus"))
        .map((c) => c.operation);
    world.emulator.clearCallLog();

    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual(["deleted"]);
    expect(callsFor()[0]).toBe("DeleteAccountAssignment");
    expect(new Set(callsFor().slice(1))).toEqual(new Set(["DescribeAccountAssignmentDeletionStatus"]));
    expect(assignmentsOf(principal)).toHaveLength(0);

    world.emulator.clearCallLog();
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual([]);
    expect(callsFor()).toEqual([]);
  });

  it("confirms a deletion another worker sent and never saw finish, without sending it again", async () => {
    const { requestId, assignmentId } = await world.approve("user17@example.com");
    await world.reconcileUntilSettled(assignmentId);
    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    // The first worker sends the delete and dies before it comes back for the outcome.
    const first = await reconcileAssignment(world.otherWorker(), { assignmentId });
    expect(first.ok && first.value.outcome).toBe("pending");
    const pending = await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } });
    expect(pending).toMatchObject({ pendingOperation: "delete", observedPresent: null });

    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.actions).toEqual(["deleted"]);
    expect((await request(requestId)).status).toBe("revoked");
    const principal = await userId("user17@example.com");
    const deletes = world.emulator
      .callLog()
      .filter((c) => c.operation === "DeleteAccountAssignment" && c.input.PrincipalId === principal);
    expect(deletes).toHaveLength(1);
    const status = world.emulator
      .callLog()
      .filter((c) => c.operation === "DescribeAccountAssignmentDeletionStatus")
      .map((c) => c.input.AccountAssignmentDeletionRequestId);
    expect(status).toContain(pending.pendingRequestId);
    const trail = await world.db.auditEvent.findMany({
      where: { action: { startsWith: "assignment.delete" } },
      orderBy: { seq: "asc" },
    });
    expect(
      trail
        .filter((e) => (e.data as { assignmentId?: string }).assignmentId === assignmentId)
        .map((e) => [e.action, (e.data as { awsRequestId?: string }).awsRequestId]),
    ).toEqual([
      ["assignment.delete_requested", pending.pendingRequestId],
      ["assignment.deleted", pending.pendingRequestId],
    ]);
    expect(await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } })).toMatchObject({
      pendingOperation: null,
      pendingRequestId: null,
      observedPresent: false,
    });
  });

  it("retries a removal AWS reports FAILED while the assignment is still there", async () => {
    const { requestId, assignmentId } = await world.approve("user11@example.com");
    await world.reconcileUntilSettled(assignmentId);
    world.emulator.faults.failNextAssignment({ kind: "deletion", reason: "Internal failure" });
    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.actions).toEqual(["deleted"]);
    expect(assignmentsOf(await userId("user11@example.com"))).toHaveLength(0);
    const attempts = await world.db.reconcileAttempt.findMany({
      where: { assignmentId, operation: "delete" },
      orderBy: { startedAt: "asc" },
    });
    expect(attempts.map((a) => a.outcome)).toEqual(["failed", "succeeded"]);
  });

  it("takes a removal that fails because someone already removed the assignment as done", async () => {
    const { requestId, assignmentId } = await world.approve("user12@example.com");
    await world.reconcileUntilSettled(assignmentId);
    const target = {
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: await userId("user12@example.com"),
    };
    // An administrator removes it by hand; AWS then fails Keyturn's own delete.
    expect((await world.deps.identityCenter.deleteAssignment(target)).status).toBe("SUCCEEDED");
    world.emulator.faults.failNextAssignment({ kind: "deletion", reason: "Assignment does not exist" });
    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual(["deleted"]);
    expect((await request(requestId)).status).toBe("revoked");
    const assignment = await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } });
    expect(assignment.observedPresent).toBe(false);
  });

  it("confirms by its saved request id a create whose worker died while AWS worked, and starts the access when AWS did", async () => {
    const { requestId, assignmentId } = await world.approve("user13@example.com");
    await dyingWorker("after-id-saved").run(assignmentId);
    const diedAt = Date.now();
    const pending = await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } });
    expect(pending).toMatchObject({ pendingOperation: "create", observedPresent: null });
    expect(pending.pendingRequestId).toEqual(expect.any(String));

    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.activated).toEqual([requestId]);
    const principal = await userId("user13@example.com");
    expect(creates(principal)).toHaveLength(1);
    expect(
      world.emulator
        .callLog()
        .filter((c) => c.operation === "DescribeAccountAssignmentCreationStatus")
        .map((c) => c.input.AccountAssignmentCreationRequestId),
    ).toContain(pending.pendingRequestId);
    expect(await assignmentTrail(assignmentId)).toEqual([
      ["assignment.create_requested", pending.pendingRequestId],
      ["assignment.created", pending.pendingRequestId],
    ]);
    // The clock started when AWS accepted the create, not when the next run saw it.
    const active = await request(requestId);
    const sentAt = creates(principal)[0]?.at ?? 0;
    expect(active.activatedAt?.getTime()).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(active.activatedAt?.getTime()).toBeLessThanOrEqual(diedAt);
  });

  it("finds among AWS's creation requests a create whose worker died before it could save the id", async () => {
    const { requestId, assignmentId } = await world.approve("user18@example.com");
    await dyingWorker("before-id-saved").run(assignmentId);
    expect(await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } })).toMatchObject({
      pendingOperation: "create",
      pendingRequestId: null,
    });

    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.activated).toEqual([requestId]);
    const principal = await userId("user18@example.com");
    expect(creates(principal)).toHaveLength(1);
    const [lookedUp] = await assignmentTrail(assignmentId);
    expect(lookedUp?.[0]).toBe("assignment.create_looked_up");
    expect(lookedUp?.[1]).toEqual(expect.any(String));
    expect((await request(requestId)).status).toBe("active");
  });

  it("creates once a create whose worker died before it reached AWS", async () => {
    const { requestId, assignmentId } = await world.approve("user19@example.com");
    await dyingWorker("before-send").run(assignmentId);
    const principal = await userId("user19@example.com");
    expect(creates(principal)).toEqual([]);

    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.actions).toContain("created");
    expect(report.activated).toEqual([requestId]);
    expect(creates(principal)).toHaveLength(1);
    expect((await assignmentTrail(assignmentId))[0]).toEqual(["assignment.create_looked_up", null]);
  });

  it("finds in its sweep, and removes, a grant whose worker died mid-create after the request was revoked", async () => {
    const { requestId, assignmentId } = await world.approve("user14@example.com");
    await dyingWorker("before-id-saved").run(assignmentId);
    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    // The request is over and no lease is live: only the unconfirmed create says AWS may hold it.
    expect(await assignmentsNeedingReconcile(world.db, new Date())).toContain(assignmentId);
    // The create it finds had succeeded; what AWS holds for no live lease is removed.
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual(["created", "deleted"]);
    expect(assignmentsOf(await userId("user14@example.com"))).toHaveLength(0);
    expect(await assignmentsNeedingReconcile(world.db, new Date())).not.toContain(assignmentId);
    expect((await request(requestId)).status).toBe("revoked");
  });

  it("never sends a create for a lease that ends before it could be granted, and says why", async () => {
    const requestId = await approveRequest(world.deps, {
      flowName: "s3",
      email: "user20@example.com",
      durationSeconds: 1,
    });
    const { assignmentId } = await world.db.lease.findUniqueOrThrow({ where: { requestId } });
    // The run gets to it 700 ms into its one-second window (its clock says so), too late to grant.
    const late = { now: () => new Date(Date.now() + 700) };
    const report = await reconcileUntilSettled({ ...world.deps, clock: late }, assignmentId);
    expect(report.actions).toContain("create_skipped");
    expect(report.failed).toEqual([requestId]);
    expect(creates(await userId("user20@example.com"))).toEqual([]);
    const failed = await request(requestId);
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/less than 500 ms before the end of the access window/);
    expect(failed.failureReason).toContain("S3Access");
  });

  it("reports as drift an assignment made outside Keyturn, including one back after Keyturn removed it", async () => {
    const granted = await world.approve("user15@example.com");
    await world.reconcileUntilSettled(granted.assignmentId);
    const removed = await world.approve("user16@example.com");
    await world.reconcileUntilSettled(removed.assignmentId);
    await revokeRequest(world.deps, { requestId: removed.requestId, by: approver, asAdmin: false });
    await world.reconcileUntilSettled(removed.assignmentId);
    // An Identity Center admin grants erin directly, and gives user16 the set back.
    world.emulator.seed({
      assignments: [{ accountId: ACCOUNT, permissionSet: "S3Access", principal: { userName: "erin" } }],
    });
    const user16 = await userId("user16@example.com");
    const target = { accountId: ACCOUNT, permissionSetName: "S3Access" };
    expect(
      (await world.deps.identityCenter.createAssignment({ ...target, principalId: user16 })).status,
    ).toBe("SUCCEEDED");

    const first = await scanDrift(world.deps);
    const found = (scan: typeof first) => scan.findings.map((f) => [f.principalId, f.isNew]);
    const erin = await world.deps.identityCenter.findUserByEmail("erin@example.com");
    expect(found(first)).toContainEqual([erin.ok ? erin.value.userId : "", true]);
    expect(found(first)).toContainEqual([user16, true]);
    expect(first.findings.map((f) => f.principalId)).not.toContain(await userId("user15@example.com"));
    expect(first.findings.filter((f) => f.removed)).toEqual([]);
    const second = await scanDrift(world.deps);
    expect(found(second)).toContainEqual([user16, false]);
    const audited = await world.db.auditEvent.findMany({ where: { action: "drift.detected" } });
    expect(audited.filter((e) => (e.data as { principalId?: string }).principalId === user16)).toHaveLength(
      1,
    );
  });

  it("serializes reconciles of one assignment: a concurrent run finds it busy", async () => {
    const { assignmentId } = await world.approve("dave@example.com");
    const [a, b] = await Promise.all([
      reconcileAssignment(world.deps, { assignmentId }),
      reconcileAssignment(world.otherWorker(), { assignmentId }),
    ]);
    const outcomes = [a, b].map((r) => r.ok && r.value.outcome).sort();
    expect(outcomes).toEqual(["busy", "converged"]);
    const principal = await userId("dave@example.com");
    const creates = world.emulator
      .callLog()
      .filter((c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === principal);
    expect(creates).toHaveLength(1);
  });

  it("lets a signed-in session read what the bucket policy allows and refuses what it denies", async () => {
    const admin = s3Client(world.emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" });
    world.emulator.seed({
      buckets: [{ name: "jit-data", objects: { "open.txt": "hello", "secret/plan.txt": "no" } }],
    });
    await admin.send(
      new PutBucketPolicyCommand({
        Bucket: "jit-data",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AllowS3AccessRoleToReadOpen",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: "s3:GetObject",
              Resource: "arn:aws:s3:::jit-data/open.txt",
              Condition: {
                ArnLike: {
                  "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_S3Access_????????????????`,
                },
              },
            },
          ],
        }),
      }),
    );
    const { assignmentId } = await world.approve("erin@example.com");
    await world.reconcileUntilSettled(assignmentId);
    const { accessToken } = world.emulator.signIn("erin");
    const credentials = await portalClient(world.emulator).send(
      new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "S3Access" }),
    );
    const session = sessionS3Client(world.emulator, credentials.roleCredentials);
    const open = await session.send(new GetObjectCommand({ Bucket: "jit-data", Key: "open.txt" }));
    expect(await open.Body?.transformToString()).toBe("hello");
    await expect(
      session.send(new GetObjectCommand({ Bucket: "jit-data", Key: "secret/plan.txt" })),
    ).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });
});
