import { GetObjectCommand, PutBucketPolicyCommand } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { assignmentsNeedingReconcile } from "@keyturn/db";
import { ADMIN_KEY, portalClient, s3Client, sessionS3Client } from "@keyturn/testkit/aws-test-clients";
import { type ReconcileDeps, reconcileAssignment, revokeRequest, scanDrift } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { ACCOUNT, approver, person, useReconcileWorld } from "./test-support.js";

const world = useReconcileWorld();
const assignmentsOf = (userId: string) =>
  world.emulator.assignments().filter((a) => a.principalId === userId && a.accountId === ACCOUNT);
const userId = async (email: string) =>
  (await world.db.identity.findUniqueOrThrow({ where: { email } })).identityStoreUserId ?? "unpinned";
const request = (id: string) => world.db.accessRequest.findUniqueOrThrow({ where: { id } });
/** The reconciler's dependencies, but the process "dies" right after AWS accepted the create. */
const dyingAfterCreate = (): ReconcileDeps => ({
  ...world.deps,
  identityCenter: {
    ...world.deps.identityCenter,
    createAssignment: async (target) => {
      await world.deps.identityCenter.createAssignment(target);
      throw new Error("the worker died here");
    },
  },
});

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
    expect(active.expiresAt?.getTime()).toBe(activatedAt + 3600_000);
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
    const first = await reconcileAssignment({ ...world.deps, owner: "worker-that-died" }, { assignmentId });
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

  it("asks AWS, and audits what it found, after a worker died between its create and the outcome", async () => {
    const { requestId, assignmentId } = await world.approve("user13@example.com");
    await expect(reconcileAssignment(dyingAfterCreate(), { assignmentId })).rejects.toThrow("died");
    expect(
      (await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } })).observedPresent,
    ).toBe(null);

    const report = await world.reconcileUntilSettled(assignmentId);
    expect(report.actions).toEqual([]);
    expect(report.activated).toEqual([requestId]);
    const principal = await userId("user13@example.com");
    const creates = world.emulator
      .callLog()
      .filter((c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === principal);
    expect(creates).toHaveLength(1);
    const audit = await world.db.auditEvent.findMany({
      where: { action: "assignment.observed_after_interruption" },
    });
    expect(audit.map((e) => e.data)).toContainEqual(expect.objectContaining({ assignmentId, present: true }));
  });

  it("finds in its sweep, and removes, a grant whose worker died mid-create after the request was revoked", async () => {
    const { requestId, assignmentId } = await world.approve("user14@example.com");
    await expect(reconcileAssignment(dyingAfterCreate(), { assignmentId })).rejects.toThrow("died");
    await revokeRequest(world.deps, { requestId, by: approver, asAdmin: false });
    // The request is over and no lease is live: only the unconfirmed create says AWS may hold it.
    expect(await assignmentsNeedingReconcile(world.db, new Date())).toContain(assignmentId);
    expect((await world.reconcileUntilSettled(assignmentId)).actions).toEqual(["deleted"]);
    expect(assignmentsOf(await userId("user14@example.com"))).toHaveLength(0);
    expect(await assignmentsNeedingReconcile(world.db, new Date())).not.toContain(assignmentId);
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
      reconcileAssignment({ ...world.deps, owner: "other-worker" }, { assignmentId }),
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
