import { afterEach, describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limiter.js";
import {
  ACCOUNT,
  appError,
  instantTime,
  OTHER_ACCOUNT,
  operations,
  startWorld,
  type World,
} from "./test-helpers.js";

// Every test drives the real SSOAdminClient and IdentitystoreClient against the in-process
// emulator over HTTP; nothing stubs `send`.

let world: World | undefined;

async function open(options: Parameters<typeof startWorld>[0] = {}): Promise<World> {
  world = await startWorld(options);
  return world;
}

afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("instance and permission sets", () => {
  it("finds the instance with ListInstances and a set by name, then answers from the cache", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();

    expect(await ic.permissionSet("S3Access")).toEqual({
      arn: seed.permissionSets.S3Access,
      sessionDurationSeconds: 3600,
    });
    expect(operations(emu)).toEqual([
      "ListInstances",
      "ListPermissionSets",
      "DescribePermissionSet",
      "DescribePermissionSet",
      "DescribePermissionSet",
    ]);

    emu.clearCallLog();
    expect(await ic.permissionSet("S3Access")).toMatchObject({ arn: seed.permissionSets.S3Access });
    expect(await ic.permissionSet("AdministratorAccess")).toEqual({
      arn: seed.permissionSets.AdministratorAccess,
      sessionDurationSeconds: 12 * 3600,
    });
    expect(await ic.permissionSet("Auditor")).toMatchObject({ sessionDurationSeconds: 5400 });
    expect(emu.callLog()).toEqual([]);
  });

  it("shares one scan between concurrent lookups", async () => {
    const { emu, adapter } = await open();
    const ic = adapter();
    await Promise.all(
      ["S3Access", "Auditor", "S3Access", "AdministratorAccess"].map((n) => ic.permissionSet(n)),
    );
    expect(operations(emu).filter((op) => op === "ListPermissionSets" || op === "ListInstances")).toEqual([
      "ListInstances",
      "ListPermissionSets",
    ]);
  });

  it("reports an unknown set as PERMISSION_SET_NOT_FOUND, not retryable", async () => {
    const { adapter } = await open();
    const error = await appError(adapter().permissionSet("NoSuchSet"));
    expect(error.code).toBe("PERMISSION_SET_NOT_FOUND");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('"NoSuchSet"');
  });

  it("skips ListInstances when the instance and identity store are configured", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter({ instanceArn: seed.instanceArn, identityStoreId: seed.identityStoreId });
    await ic.permissionSet("S3Access");
    expect(operations(emu)).not.toContain("ListInstances");
  });

  it("reports a missing Identity Center instance as IDENTITY_CENTER_NOT_CONFIGURED", async () => {
    const { emu, adapter } = await open({ seed: null });
    const ic = adapter();
    const error = await appError(ic.permissionSet("S3Access"));
    expect([error.code, error.retryable]).toEqual(["IDENTITY_CENTER_NOT_CONFIGURED", false]);
    // A failed lookup is not cached: once the instance exists, the same adapter finds it.
    const seed = emu.seed({ permissionSets: [{ name: "S3Access" }] });
    expect(await ic.permissionSet("S3Access")).toMatchObject({ arn: seed.permissionSets.S3Access });
  });

  it("drops a cached ARN that AWS no longer knows, looks the set up again and retries once", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();
    await ic.permissionSet("S3Access");
    emu.clearCallLog();
    emu.faults.failNext({ operation: "ListAccountAssignments", code: "ResourceNotFoundException" });

    expect(await ic.listAssignments({ accountId: ACCOUNT, permissionSetName: "S3Access" })).toEqual([]);
    expect(seed.users.alice).toBeDefined();
    expect(operations(emu)).toEqual([
      "ListAccountAssignments:ResourceNotFoundException",
      "ListPermissionSets",
      "DescribePermissionSet",
      "ListAccountAssignments",
    ]);
  });
});

describe("findUserByEmail", () => {
  it("finds a user by email and returns the user name", async () => {
    const { seed, adapter } = await open();
    expect(await adapter().findUserByEmail("alice@example.com")).toEqual({
      ok: true,
      value: { userId: seed.users.alice, userName: "alice" },
    });
  });

  it("falls back to the user name", async () => {
    const { seed, adapter } = await open();
    expect(await adapter().findUserByEmail("dave@corp.example")).toEqual({
      ok: true,
      value: { userId: seed.users["dave@corp.example"], userName: "dave@corp.example" },
    });
  });

  it("accepts a user whose email is also their own user name", async () => {
    const { seed, adapter } = await open();
    const found = await adapter().findUserByEmail("frank@example.com");
    expect(found).toEqual({
      ok: true,
      value: { userId: seed.users["frank@example.com"], userName: "frank@example.com" },
    });
  });

  it("says who to ask when nobody matches", async () => {
    const { adapter } = await open();
    const found = await adapter().findUserByEmail("mallory@example.com");
    expect(found.ok).toBe(false);
    if (!found.ok) {
      expect(found.error.code).toBe("IDENTITY_NOT_FOUND");
      expect(found.error.message).toContain("mallory@example.com");
      expect(found.error.message).toContain("administrator");
    }
  });

  it("refuses an address that is one user's email and another user's user name", async () => {
    const { seed, adapter } = await open();
    const found = await adapter().findUserByEmail("shared@example.com");
    expect(found).toMatchObject({
      ok: false,
      error: {
        code: "IDENTITY_AMBIGUOUS",
        details: { emailUserId: seed.users.erin, userNameUserId: seed.users["shared@example.com"] },
      },
    });
  });

  it("throws, rather than reporting 'not found', when the identity store itself is wrong", async () => {
    const { seed, adapter } = await open();
    const ic = adapter({ instanceArn: seed.instanceArn, identityStoreId: "d-0000000000" });
    const error = await appError(ic.findUserByEmail("alice@example.com"));
    expect([error.code, error.retryable]).toEqual(["AWS_RESOURCE_NOT_FOUND", false]);
  });
});

describe("assignments", () => {
  it("creates an assignment, waits for SUCCEEDED, lists it, and deletes it again", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();
    const target = { accountId: ACCOUNT, permissionSetName: "S3Access", principalId: seed.users.alice ?? "" };
    expect(await ic.hasAssignment(target)).toBe(false);

    const created = await ic.createAssignment(target);
    expect(created).toEqual({
      status: "SUCCEEDED",
      requestId: expect.any(String),
      createdAt: expect.any(Date),
    });
    expect(emu.assignments()).toEqual([
      {
        instanceArn: seed.instanceArn,
        accountId: ACCOUNT,
        permissionSetArn: seed.permissionSets.S3Access,
        principalType: "USER",
        principalId: seed.users.alice,
      },
    ]);
    const create = emu.callLog().find((call) => call.operation === "CreateAccountAssignment");
    expect(create?.input).toMatchObject({ TargetType: "AWS_ACCOUNT", PrincipalType: "USER" });
    expect(operations(emu)).toContain("DescribeAccountAssignmentCreationStatus");
    expect(await ic.hasAssignment(target)).toBe(true);
    expect(await ic.hasAssignment({ ...target, accountId: OTHER_ACCOUNT })).toBe(false);
    expect(await ic.listAssignments({ accountId: ACCOUNT, permissionSetName: "S3Access" })).toEqual([
      { principalType: "USER", principalId: seed.users.alice },
    ]);

    const deleted = await ic.deleteAssignment(target);
    expect(deleted).toEqual({
      status: "SUCCEEDED",
      requestId: expect.any(String),
      createdAt: expect.any(Date),
    });
    expect(deleted.requestId).not.toBe(created.requestId);
    expect(emu.assignments()).toEqual([]);
    expect(await ic.hasAssignment(target)).toBe(false);
  });

  it("surfaces an asynchronous failure with AWS's reason", async () => {
    const { emu, seed, adapter } = await open();
    emu.faults.failNextAssignment({
      kind: "creation",
      reason: "Received a 404 status error: role quota exceeded",
    });
    const outcome = await adapter().createAssignment({
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: seed.users.bob ?? "",
    });
    expect(outcome).toEqual({
      status: "FAILED",
      requestId: expect.any(String),
      failureReason: "Received a 404 status error: role quota exceeded",
      createdAt: expect.any(Date),
    });
    expect(emu.assignments()).toEqual([]);
  });

  it("tells its hooks before each attempt leaves and as soon as AWS accepted, and looks a create up by id or by target", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();
    const target = { accountId: ACCOUNT, permissionSetName: "S3Access", principalId: seed.users.alice ?? "" };
    const since = new Date();
    const seen: string[] = [];
    const outcome = await ic.createAssignment(target, {
      beforeSend: async () => {
        seen.push("beforeSend");
        return () => {
          seen.push("last check");
        };
      },
      accepted: async ({ requestId }) => {
        // Before the outcome: AWS is still at it.
        seen.push(`accepted ${(await ic.creationStatus(requestId))?.status}`);
      },
    });
    expect(seen).toEqual(["beforeSend", "last check", "accepted IN_PROGRESS"]);
    expect(await ic.creationStatus(outcome.requestId)).toMatchObject({
      status: "SUCCEEDED",
      requestId: outcome.requestId,
    });
    expect(await ic.creationStatus("00000000-0000-4000-8000-000000000000")).toBeNull();
    // By target, among the requests AWS accepted since: the one, and none for another target.
    expect(await ic.findCreation(target, since)).toMatchObject({ requestId: outcome.requestId });
    expect(await ic.findCreation({ ...target, principalId: seed.users.bob ?? "" }, since)).toBeNull();

    // A hook that refuses stops the attempt before anything is sent.
    emu.clearCallLog();
    const refused = ic.createAssignment(
      { ...target, principalId: seed.users.bob ?? "" },
      {
        beforeSend: async () => () => {
          throw new Error("the lease ended");
        },
      },
    );
    await expect(refused).rejects.toThrow("the lease ended");
    expect(emu.callLog().filter((c) => c.operation === "CreateAccountAssignment")).toEqual([]);
  });

  it("says whether the identity store still has a user", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();
    expect(await ic.userExists(seed.users.alice ?? "")).toBe(true);
    emu.deleteUser("alice");
    expect(await ic.userExists(seed.users.alice ?? "")).toBe(false);
  });

  it("looks one assignment up with a single per-principal call, however many the set has", async () => {
    const users = Array.from({ length: 150 }, (_, i) => ({ userName: `user${i}` }));
    const { emu, seed, adapter } = await open({
      seed: {
        accounts: [ACCOUNT, OTHER_ACCOUNT],
        users,
        permissionSets: [{ name: "S3Access" }, { name: "Admin" }],
        assignments: [
          ...users.map((u) => ({
            accountId: ACCOUNT,
            permissionSet: "S3Access",
            principal: { userName: u.userName },
          })),
          { accountId: OTHER_ACCOUNT, permissionSet: "Admin", principal: { userName: "user7" } },
          { accountId: ACCOUNT, permissionSet: "Admin", principal: { userName: "user8" } },
        ],
      },
    });
    const ic = adapter();
    await ic.permissionSet("S3Access");
    emu.clearCallLog();
    const lookUp = (user: string, permissionSetName = "S3Access", accountId = ACCOUNT) =>
      ic.hasAssignment({ accountId, permissionSetName, principalId: seed.users[user] ?? "" });

    expect(await lookUp("user149")).toBe(true);
    expect(await lookUp("user0")).toBe(true);
    expect(await lookUp("user7", "Admin")).toBe(false);
    expect(await lookUp("user7", "Admin", OTHER_ACCOUNT)).toBe(true);
    expect(await lookUp("user8", "Admin")).toBe(true);
    expect(operations(emu)).toEqual(Array(5).fill("ListAccountAssignmentsForPrincipal"));
    const first = emu.callLog().find((call) => call.operation === "ListAccountAssignmentsForPrincipal");
    expect(first?.input).toMatchObject({ PrincipalType: "USER", Filter: { AccountId: ACCOUNT } });
  });

  it("lists users and groups across pages", async () => {
    const users = Array.from({ length: 120 }, (_, i) => ({ userName: `user${i}` }));
    const { emu, adapter } = await open({
      seed: {
        accounts: [ACCOUNT],
        users,
        groups: [{ displayName: "Engineering" }],
        permissionSets: [{ name: "S3Access" }],
        assignments: [
          ...users.map((u) => ({
            accountId: ACCOUNT,
            permissionSet: "S3Access",
            principal: { userName: u.userName },
          })),
          { accountId: ACCOUNT, permissionSet: "S3Access", principal: { groupName: "Engineering" } },
        ],
      },
    });
    const listed = await adapter().listAssignments({ accountId: ACCOUNT, permissionSetName: "S3Access" });
    expect(listed).toHaveLength(121);
    expect(listed.filter((p) => p.principalType === "GROUP")).toHaveLength(1);
    const pages = emu.callLog().filter((call) => call.operation === "ListAccountAssignments");
    expect(pages.map((call) => call.input.MaxResults)).toEqual([100, 100]);
    expect(pages[1]?.input.NextToken).toEqual(expect.any(String));
  });

  it("gives up polling after maxPollMs with a retryable PROVISIONING_TIMEOUT naming the request, and frees the slot", async () => {
    const { emu, seed, adapter } = await open({ emulator: { assignmentDelayMs: 60_000 } });
    const limiter = createRateLimiter({ callsPerSecond: 1000, burst: 100, maxOutstandingCreations: 1 });
    const time = instantTime();
    const ic = adapter({ limiter, time, maxPollMs: 150, pollIntervalMs: 20 });
    const error = await appError(
      ic.createAssignment({
        accountId: ACCOUNT,
        permissionSetName: "S3Access",
        principalId: seed.users.alice ?? "",
      }),
    );
    const pending = emu.snapshot().pendingOperations;
    expect(pending).toHaveLength(1);
    expect([error.code, error.retryable]).toEqual(["PROVISIONING_TIMEOUT", true]);
    expect(error.message).toContain(pending[0]?.requestId);
    // Polls back off from 20 ms, doubling, and the last wait is cut to what is left of the budget.
    expect(time.sleeps).toEqual([20, 40, 80, 10]);
    expect(
      operations(emu, (call) => call.operation === "DescribeAccountAssignmentCreationStatus"),
    ).toHaveLength(4);
    await expect(limiter.withCreationSlot(async () => "free")).resolves.toBe("free");
  });
});

describe("retries", () => {
  it("retries throttling until it stops", async () => {
    const { emu, seed, adapter } = await open();
    emu.faults.failNext({ operation: "CreateAccountAssignment", code: "ThrottlingException", count: 3 });
    const outcome = await adapter().createAssignment({
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: seed.users.alice ?? "",
    });
    expect(outcome.status).toBe("SUCCEEDED");
    expect(operations(emu, (call) => call.operation === "CreateAccountAssignment")).toEqual([
      "CreateAccountAssignment:ThrottlingException",
      "CreateAccountAssignment:ThrottlingException",
      "CreateAccountAssignment:ThrottlingException",
      "CreateAccountAssignment",
    ]);
  });

  it("retries ConflictException and server errors", async () => {
    const { emu, seed, adapter } = await open({
      seed: {
        accounts: [ACCOUNT],
        users: [{ userName: "alice" }],
        permissionSets: [{ name: "S3Access" }],
        assignments: [{ accountId: ACCOUNT, permissionSet: "S3Access", principal: { userName: "alice" } }],
      },
    });
    emu.faults.failNext({ operation: "DeleteAccountAssignment", code: "ConflictException", count: 2 });
    emu.faults.failNext({
      operation: "DescribeAccountAssignmentDeletionStatus",
      code: "InternalServerException",
    });
    const outcome = await adapter().deleteAssignment({
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: seed.users.alice ?? "",
    });
    expect(outcome.status).toBe("SUCCEEDED");
    expect(emu.assignments()).toEqual([]);
    const calls = operations(
      emu,
      (call) => call.operation.endsWith("AccountAssignment") || call.operation.includes("Deletion"),
    );
    expect(calls.slice(0, 5)).toEqual([
      "DeleteAccountAssignment:ConflictException",
      "DeleteAccountAssignment:ConflictException",
      "DeleteAccountAssignment",
      "DescribeAccountAssignmentDeletionStatus:InternalServerException",
      "DescribeAccountAssignmentDeletionStatus",
    ]);
  });

  it("does not retry a ValidationException", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();
    await ic.permissionSet("S3Access");
    emu.clearCallLog();
    emu.faults.failNext({
      operation: "ListAccountAssignmentsForPrincipal",
      code: "ValidationException",
      message: "AccountId is bad",
    });
    const error = await appError(
      ic.hasAssignment({
        accountId: ACCOUNT,
        permissionSetName: "S3Access",
        principalId: seed.users.alice ?? "",
      }),
    );
    expect([error.code, error.retryable]).toEqual(["AWS_VALIDATION", false]);
    expect(error.message).toContain("AccountId is bad");
    expect(operations(emu)).toEqual(["ListAccountAssignmentsForPrincipal:ValidationException"]);
  });

  it("translates AccessDenied and ServiceQuotaExceeded into non-retryable errors, once", async () => {
    const { emu, seed, adapter } = await open();
    const ic = adapter();
    const target = { accountId: ACCOUNT, permissionSetName: "S3Access", principalId: seed.users.alice ?? "" };
    emu.faults.failNext({ operation: "CreateAccountAssignment", code: "AccessDeniedException" });
    expect(await appError(ic.createAssignment(target))).toMatchObject({
      code: "AWS_ACCESS_DENIED",
      retryable: false,
    });
    emu.faults.failNext({ operation: "CreateAccountAssignment", code: "ServiceQuotaExceededException" });
    expect(await appError(ic.createAssignment(target))).toMatchObject({
      code: "AWS_SERVICE_QUOTA_EXCEEDED",
      retryable: false,
    });
    expect(operations(emu, (call) => call.operation === "CreateAccountAssignment")).toHaveLength(2);
  });

  it("gives up on throttling that never stops after the bounded attempts, with full-jitter backoff", async () => {
    const { emu, seed, adapter } = await open();
    const time = instantTime();
    const ic = adapter({ time, retry: { maxAttempts: 6, baseMs: 200, capMs: 1000, random: () => 0.5 } });
    await ic.permissionSet("S3Access");
    emu.clearCallLog();
    emu.faults.set({ throttleProbability: 1 });

    const error = await appError(
      ic.hasAssignment({
        accountId: ACCOUNT,
        permissionSetName: "S3Access",
        principalId: seed.users.alice ?? "",
      }),
    );
    expect([error.code, error.retryable]).toEqual(["AWS_THROTTLED", true]);
    expect(error.message).toContain("6 attempts");
    expect(operations(emu)).toEqual(Array(6).fill("ListAccountAssignmentsForPrincipal:ThrottlingException"));
    // Half of min(cap, base * 2^n): 100, 200, 400, then the cap of 1000 halved.
    expect(time.sleeps).toEqual([100, 200, 400, 500, 500]);
  });

  it("reports an unreachable endpoint as a retryable AWS_UNAVAILABLE", async () => {
    const { emu, adapter } = await open();
    const ic = adapter({ endpoint: emu.endpoint, retry: { maxAttempts: 2, baseMs: 1, capMs: 1 } });
    await emu.close();
    const error = await appError(ic.permissionSet("S3Access"));
    expect([error.code, error.retryable]).toEqual(["AWS_UNAVAILABLE", true]);
    world = undefined;
    ic.close();
  });
});
