import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  paginateListAccountAssignments,
  type SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import {
  ACCOUNT,
  caught,
  OTHER_ACCOUNT,
  ssoAdminClient,
  standardSeed,
  waitForStatus,
} from "./test-helpers.js";
import type { AwsEmulator, SeedResult } from "./types.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assignmentInput(seed: SeedResult, user: string, set = "S3Access", account = ACCOUNT) {
  return {
    InstanceArn: seed.instanceArn,
    TargetId: account,
    TargetType: "AWS_ACCOUNT" as const,
    PermissionSetArn: seed.permissionSets[set],
    PrincipalType: "USER" as const,
    PrincipalId: seed.users[user],
  };
}

async function assign(
  client: SSOAdminClient,
  seed: SeedResult,
  user: string,
  set = "S3Access",
  account = ACCOUNT,
) {
  const created = await client.send(
    new CreateAccountAssignmentCommand(assignmentInput(seed, user, set, account)),
  );
  return waitForStatus(
    client,
    seed.instanceArn,
    "creation",
    created.AccountAssignmentCreationStatus?.RequestId,
  );
}

async function unassign(
  client: SSOAdminClient,
  seed: SeedResult,
  user: string,
  set = "S3Access",
  account = ACCOUNT,
) {
  const deleted = await client.send(
    new DeleteAccountAssignmentCommand(assignmentInput(seed, user, set, account)),
  );
  return waitForStatus(
    client,
    seed.instanceArn,
    "deletion",
    deleted.AccountAssignmentDeletionStatus?.RequestId,
  );
}

describe("sso-admin over awsJson1_1", () => {
  let emulator: AwsEmulator;
  let client: SSOAdminClient;
  let seed: SeedResult;

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 7, assignmentDelayMs: 20 });
    seed = emulator.seed(standardSeed());
    client = ssoAdminClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it("lists the instance with its identity store", async () => {
    const output = await client.send(new ListInstancesCommand({}));
    expect(output.Instances).toHaveLength(1);
    const instance = output.Instances?.[0];
    expect(instance?.InstanceArn).toBe(seed.instanceArn);
    expect(instance?.InstanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/);
    expect(instance?.IdentityStoreId).toBe(seed.identityStoreId);
    expect(instance?.CreatedDate).toBeInstanceOf(Date);
    expect(output.$metadata.requestId).toMatch(UUID);
  });

  it("lists and describes permission sets", async () => {
    const listed = await client.send(
      new ListPermissionSetsCommand({ InstanceArn: seed.instanceArn, MaxResults: 1 }),
    );
    expect(listed.PermissionSets).toHaveLength(1);
    expect(listed.NextToken).toBeDefined();
    const rest = await client.send(
      new ListPermissionSetsCommand({ InstanceArn: seed.instanceArn, NextToken: listed.NextToken }),
    );
    const arns = [...(listed.PermissionSets ?? []), ...(rest.PermissionSets ?? [])];
    expect(arns.sort()).toEqual(Object.values(seed.permissionSets).sort());

    const described = await client.send(
      new DescribePermissionSetCommand({
        InstanceArn: seed.instanceArn,
        PermissionSetArn: seed.permissionSets.S3Access,
      }),
    );
    expect(described.PermissionSet).toMatchObject({
      Name: "S3Access",
      SessionDuration: "PT1H",
      Description: "Data access",
      PermissionSetArn: seed.permissionSets.S3Access,
    });
    expect(described.PermissionSet?.CreatedDate).toBeInstanceOf(Date);
  });

  it("creates an assignment asynchronously: IN_PROGRESS, then SUCCEEDED and listed", async () => {
    const created = await client.send(new CreateAccountAssignmentCommand(assignmentInput(seed, "alice")));
    const status = created.AccountAssignmentCreationStatus;
    expect(status).toMatchObject({
      Status: "IN_PROGRESS",
      TargetId: ACCOUNT,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: seed.permissionSets.S3Access,
      PrincipalType: "USER",
      PrincipalId: seed.users.alice,
    });
    expect(status?.RequestId).toMatch(UUID);
    expect(status?.CreatedDate).toBeInstanceOf(Date);

    const done = await waitForStatus(client, seed.instanceArn, "creation", status?.RequestId);
    expect(done.Status).toBe("SUCCEEDED");
    const listed = await client.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: seed.instanceArn,
        AccountId: ACCOUNT,
        PermissionSetArn: seed.permissionSets.S3Access,
      }),
    );
    expect(listed.AccountAssignments).toEqual([
      {
        AccountId: ACCOUNT,
        PermissionSetArn: seed.permissionSets.S3Access,
        PrincipalType: "USER",
        PrincipalId: seed.users.alice,
      },
    ]);
    expect(emulator.assignments()).toContainEqual({
      instanceArn: seed.instanceArn,
      accountId: ACCOUNT,
      permissionSetArn: seed.permissionSets.S3Access,
      principalType: "USER",
      principalId: seed.users.alice,
    });

    expect((await unassign(client, seed, "alice")).Status).toBe("SUCCEEDED");
    const after = await client.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: seed.instanceArn,
        AccountId: ACCOUNT,
        PermissionSetArn: seed.permissionSets.S3Access,
      }),
    );
    expect(after.AccountAssignments).toEqual([]);
  });

  it("lists one principal's assignments, filtered by account", async () => {
    await assign(client, seed, "carol");
    await assign(client, seed, "carol", "AdministratorAccess");
    await assign(client, seed, "carol", "S3Access", OTHER_ACCOUNT);
    await assign(client, seed, "bob");
    const forCarol = (filter?: { AccountId: string }) =>
      client.send(
        new ListAccountAssignmentsForPrincipalCommand({
          InstanceArn: seed.instanceArn,
          PrincipalType: "USER",
          PrincipalId: seed.users.carol,
          ...(filter === undefined ? {} : { Filter: filter }),
        }),
      );
    const inAccount = await forCarol({ AccountId: ACCOUNT });
    expect(inAccount.AccountAssignments?.map((a) => a.PermissionSetArn).sort()).toEqual(
      [seed.permissionSets.S3Access, seed.permissionSets.AdministratorAccess].sort(),
    );
    expect(
      inAccount.AccountAssignments?.every(
        (a) => a.AccountId === ACCOUNT && a.PrincipalId === seed.users.carol,
      ),
    ).toBe(true);
    expect((await forCarol()).AccountAssignments).toHaveLength(3);
    const bad = await caught(forCarol({ AccountId: "12" }));
    expect(bad.name).toBe("ValidationException");

    await unassign(client, seed, "carol");
    await unassign(client, seed, "carol", "AdministratorAccess");
    await unassign(client, seed, "carol", "S3Access", OTHER_ACCOUNT);
    await unassign(client, seed, "bob");
    expect((await forCarol()).AccountAssignments).toEqual([]);
  });

  it("treats creating an existing assignment and deleting a missing one as successes", async () => {
    expect((await assign(client, seed, "carol", "AdministratorAccess")).Status).toBe("SUCCEEDED");
    expect((await assign(client, seed, "carol", "AdministratorAccess")).Status).toBe("SUCCEEDED");
    expect(emulator.assignments().filter((a) => a.principalId === seed.users.carol)).toHaveLength(1);
    expect((await unassign(client, seed, "carol", "AdministratorAccess")).Status).toBe("SUCCEEDED");
    expect((await unassign(client, seed, "carol", "AdministratorAccess")).Status).toBe("SUCCEEDED");
  });

  it("creates the AWSReservedSSO role with the first assignment, deletes it with the last, and renames it on re-creation", async () => {
    const rolesOf = () =>
      emulator
        .roles()
        .filter((role) => role.permissionSetName === "S3Access" && role.accountId === OTHER_ACCOUNT);
    expect(rolesOf()).toEqual([]);
    await assign(client, seed, "alice", "S3Access", OTHER_ACCOUNT);
    const [first] = rolesOf();
    expect(first?.name).toMatch(/^AWSReservedSSO_S3Access_[0-9a-f]{16}$/);
    expect(first?.arn).toBe(
      `arn:aws:iam::${OTHER_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/${first?.name}`,
    );
    expect(first?.roleId).toMatch(/^AROA[A-Z0-9]{17}$/);

    await assign(client, seed, "bob", "S3Access", OTHER_ACCOUNT);
    await unassign(client, seed, "alice", "S3Access", OTHER_ACCOUNT);
    expect(rolesOf()).toEqual([first]);
    await unassign(client, seed, "bob", "S3Access", OTHER_ACCOUNT);
    expect(rolesOf()).toEqual([]);

    await assign(client, seed, "alice", "S3Access", OTHER_ACCOUNT);
    const [second] = rolesOf();
    expect(second?.name).toMatch(/^AWSReservedSSO_S3Access_[0-9a-f]{16}$/);
    expect(second?.name).not.toBe(first?.name);
    expect(second?.roleId).not.toBe(first?.roleId);
    await unassign(client, seed, "alice", "S3Access", OTHER_ACCOUNT);
  });

  it("answers malformed input with ValidationException, parsed by the SDK", async () => {
    const cases = [
      { ...assignmentInput(seed, "alice"), TargetType: "ORGANIZATION" as never },
      { ...assignmentInput(seed, "alice"), TargetId: "12345" },
      { ...assignmentInput(seed, "alice"), InstanceArn: "arn:aws:sso:::instance/ssoins-short" },
      { ...assignmentInput(seed, "alice"), PermissionSetArn: "arn:aws:sso:::permissionSet/nope" },
      { ...assignmentInput(seed, "alice"), PrincipalId: undefined },
      { ...assignmentInput(seed, "alice"), PrincipalType: "ROLE" as never },
    ];
    for (const input of cases) {
      const error = await caught(client.send(new CreateAccountAssignmentCommand(input)));
      expect(error.name).toBe("ValidationException");
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(error.$metadata?.requestId).toMatch(UUID);
    }
    const tooMany = await caught(
      client.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: seed.instanceArn,
          AccountId: ACCOUNT,
          PermissionSetArn: seed.permissionSets.S3Access,
          MaxResults: 101,
        }),
      ),
    );
    expect(tooMany.name).toBe("ValidationException");
    expect(tooMany.message).toContain("maxResults");
    const badToken = await caught(
      client.send(new ListPermissionSetsCommand({ InstanceArn: seed.instanceArn, NextToken: "garbage" })),
    );
    expect(badToken.name).toBe("ValidationException");
  });

  it("answers unknown resources with ResourceNotFoundException", async () => {
    const unknownInstance = await caught(
      client.send(
        new ListPermissionSetsCommand({ InstanceArn: "arn:aws:sso:::instance/ssoins-00000000000000ff" }),
      ),
    );
    expect(unknownInstance.name).toBe("ResourceNotFoundException");
    expect(unknownInstance.$metadata?.requestId).toMatch(UUID);

    const unknownSet = await caught(
      client.send(
        new DescribePermissionSetCommand({
          InstanceArn: seed.instanceArn,
          PermissionSetArn: `${seed.instanceArn.replace("instance", "permissionSet")}/ps-00000000000000ff`,
        }),
      ),
    );
    expect(unknownSet.name).toBe("ResourceNotFoundException");

    const unknownRequest = await caught(
      client.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: seed.instanceArn,
          AccountAssignmentCreationRequestId: "00000000-0000-4000-8000-000000000000",
        }),
      ),
    );
    expect(unknownRequest.name).toBe("ResourceNotFoundException");
  });

  it("accepts an assignment for a user the identity store does not have, and fails it as AWS does", async () => {
    // AWS reports a missing assignee in the request's status, not as an error of the call:
    // "Received a 404 status error: the USER assignee <id> was not found in directory <store>"
    // (hashicorp/terraform-provider-aws#19341, a user deleted from the identity store).
    const missing = "00000000-0000-4000-8000-000000000000";
    const created = await client.send(
      new CreateAccountAssignmentCommand({ ...assignmentInput(seed, "alice"), PrincipalId: missing }),
    );
    expect(created.AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
    const status = await waitForStatus(
      client,
      seed.instanceArn,
      "creation",
      created.AccountAssignmentCreationStatus?.RequestId,
    );
    expect(status).toMatchObject({
      Status: "FAILED",
      FailureReason: `Received a 404 status error: the USER assignee ${missing} was not found in directory ${seed.identityStoreId}`,
    });
  });

  it("keeps a deleted user's assignments listed, fails their removal, and re-provisions a user under a new id", async () => {
    const user =
      emulator.seed({ users: [{ userName: "gone", emails: ["gone@example.com"] }] }).users.gone ?? "";
    const created = await client.send(
      new CreateAccountAssignmentCommand({ ...assignmentInput(seed, "alice"), PrincipalId: user }),
    );
    const assigned = await waitForStatus(
      client,
      seed.instanceArn,
      "creation",
      created.AccountAssignmentCreationStatus?.RequestId,
    );
    expect(assigned.Status).toBe("SUCCEEDED");
    emulator.deleteUser("gone");
    expect(emulator.assignments().filter((a) => a.principalId === user)).toHaveLength(1);
    const removal = await client.send(
      new DeleteAccountAssignmentCommand({ ...assignmentInput(seed, "alice"), PrincipalId: user }),
    );
    const removed = await waitForStatus(
      client,
      seed.instanceArn,
      "deletion",
      removal.AccountAssignmentDeletionStatus?.RequestId,
    );
    expect(removed.Status).toBe("FAILED");
    expect(removed.FailureReason).toContain(`assignee ${user} was not found in directory`);

    const back = emulator.seed({ users: [{ userName: "back", emails: ["back@example.com"] }] }).users.back;
    const newId = emulator.reprovisionUser("back");
    expect(newId).not.toBe(back);
    expect(emulator.snapshot().users.filter((u) => u.userName === "back")).toEqual([
      expect.objectContaining({ userId: newId, emails: ["back@example.com"] }),
    ]);
    emulator.setUserEmails("back", ["back.new@example.com"]);
    expect(emulator.snapshot().users.find((u) => u.userId === newId)?.emails).toEqual([
      "back.new@example.com",
    ]);
  });

  it("rejects a delete that overlaps an in-progress create with ConflictException", async () => {
    // A clock of its own: each change stays IN_PROGRESS until the test moves time on, however
    // slowly the machine runs.
    let clock = Date.now();
    const held = await startAwsEmulator({ seed: 7, assignmentDelayMs: 500, now: () => clock });
    const heldSeed = held.seed(standardSeed());
    const heldClient = ssoAdminClient(held);
    const bob = assignmentInput(heldSeed, "bob", "AdministratorAccess");
    try {
      const created = await heldClient.send(new CreateAccountAssignmentCommand(bob));
      expect(created.AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
      const conflict = await caught(heldClient.send(new DeleteAccountAssignmentCommand(bob)));
      expect(conflict.name).toBe("ConflictException");
      clock += 500;
      await waitForStatus(
        heldClient,
        heldSeed.instanceArn,
        "creation",
        created.AccountAssignmentCreationStatus?.RequestId,
      );

      const deleted = await heldClient.send(new DeleteAccountAssignmentCommand(bob));
      expect(deleted.AccountAssignmentDeletionStatus?.Status).toBe("IN_PROGRESS");
      const reverse = await caught(heldClient.send(new CreateAccountAssignmentCommand(bob)));
      expect(reverse.name).toBe("ConflictException");
      clock += 500;
      await waitForStatus(
        heldClient,
        heldSeed.instanceArn,
        "deletion",
        deleted.AccountAssignmentDeletionStatus?.RequestId,
      );
    } finally {
      heldClient.destroy();
      await held.close();
    }
  });

  it("fails the request asynchronously for an account outside the organization", async () => {
    const status = await assign(client, seed, "alice", "S3Access", "999999999999");
    expect(status.Status).toBe("FAILED");
    expect(status.FailureReason).toContain("Received a 404 status error");
  });

  it("lists creation request statuses with a status filter", async () => {
    const failed = await client.send(
      new ListAccountAssignmentCreationStatusCommand({
        InstanceArn: seed.instanceArn,
        Filter: { Status: "FAILED" },
      }),
    );
    expect(failed.AccountAssignmentsCreationStatus?.length).toBeGreaterThan(0);
    expect(failed.AccountAssignmentsCreationStatus?.every((status) => status.Status === "FAILED")).toBe(true);
    expect(failed.AccountAssignmentsCreationStatus?.[0]?.CreatedDate).toBeInstanceOf(Date);
  });

  it("rejects unknown operations and malformed JSON like AWS", async () => {
    const unknown = await fetch(emulator.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "SWBExternalService.DoMagic" },
      body: "{}",
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    expect(unknown.headers.get("x-amzn-requestid")).toMatch(UUID);

    const malformed = await fetch(emulator.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "SWBExternalService.ListInstances",
      },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ __type: "SerializationException" });
  });
});

describe("sso-admin paging", () => {
  it("pages 150 assignments 100 at a time", async () => {
    const emulator = await startAwsEmulator({ seed: 11, assignmentDelayMs: 0 });
    const users = Array.from({ length: 150 }, (_, i) => ({ userName: `user${i}` }));
    const base = standardSeed();
    const seed = emulator.seed({ ...base, users: [...(base.users ?? []), ...users] });
    const client = ssoAdminClient(emulator);
    try {
      for (const user of users) {
        const created = await client.send(
          new CreateAccountAssignmentCommand(assignmentInput(seed, user.userName)),
        );
        expect(created.AccountAssignmentCreationStatus?.Status).toBe("SUCCEEDED");
      }
      const query = {
        InstanceArn: seed.instanceArn,
        AccountId: ACCOUNT,
        PermissionSetArn: seed.permissionSets.S3Access,
      };
      const first = await client.send(new ListAccountAssignmentsCommand({ ...query, MaxResults: 100 }));
      expect(first.AccountAssignments).toHaveLength(100);
      expect(first.NextToken).toBeDefined();
      const second = await client.send(
        new ListAccountAssignmentsCommand({ ...query, MaxResults: 100, NextToken: first.NextToken }),
      );
      expect(second.AccountAssignments).toHaveLength(50);
      expect(second.NextToken).toBeUndefined();

      const seen = new Set<string>();
      for await (const page of paginateListAccountAssignments({ client, pageSize: 100 }, query)) {
        for (const assignment of page.AccountAssignments ?? []) {
          seen.add(assignment.PrincipalId ?? "");
        }
      }
      expect(seen.size).toBe(150);

      const foreignToken = await caught(
        client.send(
          new ListAccountAssignmentsCommand({
            ...query,
            PermissionSetArn: seed.permissionSets.AdministratorAccess,
            NextToken: first.NextToken,
          }),
        ),
      );
      expect(foreignToken.name).toBe("ValidationException");
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});

describe("sso-admin in us-east-1", () => {
  it("names roles without the region path segment", async () => {
    const emulator = await startAwsEmulator({ region: "us-east-1", assignmentDelayMs: 0 });
    const seed = emulator.seed(standardSeed());
    const client = ssoAdminClient(emulator);
    try {
      await client.send(new CreateAccountAssignmentCommand(assignmentInput(seed, "alice")));
      const [role] = emulator.roles();
      expect(role?.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${role?.name}`);
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});
