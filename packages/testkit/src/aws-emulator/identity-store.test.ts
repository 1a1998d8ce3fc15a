import {
  DescribeGroupCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
  ListGroupsCommand,
  ListUsersCommand,
  paginateListUsers,
} from "@aws-sdk/client-identitystore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import { caught, identityStoreClient, standardSeed } from "./test-helpers.js";
import type { AwsEmulator, SeedResult } from "./types.js";

describe("identitystore over awsJson1_1", () => {
  let emulator: AwsEmulator;
  let client: IdentitystoreClient;
  let seed: SeedResult;

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 3 });
    const base = standardSeed();
    seed = emulator.seed({
      ...base,
      users: [...(base.users ?? []), { userName: "dave", emails: ["dave@example.com", "d@example.org"] }],
    });
    client = identityStoreClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it("finds a user id by email and by user name", async () => {
    const byEmail = await client.send(
      new GetUserIdCommand({
        IdentityStoreId: seed.identityStoreId,
        AlternateIdentifier: {
          UniqueAttribute: { AttributePath: "emails.value", AttributeValue: "Alice@Example.com" },
        },
      }),
    );
    expect(byEmail).toMatchObject({ UserId: seed.users.alice, IdentityStoreId: seed.identityStoreId });

    const bySecondEmail = await client.send(
      new GetUserIdCommand({
        IdentityStoreId: seed.identityStoreId,
        AlternateIdentifier: {
          UniqueAttribute: { AttributePath: "emails.value", AttributeValue: "d@example.org" },
        },
      }),
    );
    expect(bySecondEmail.UserId).toBe(seed.users.dave);

    const byName = await client.send(
      new GetUserIdCommand({
        IdentityStoreId: seed.identityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "bob" } },
      }),
    );
    expect(byName.UserId).toBe(seed.users.bob);
  });

  it("reports an unknown user as ResourceNotFoundException with ResourceType USER", async () => {
    const error = await caught(
      client.send(
        new GetUserIdCommand({
          IdentityStoreId: seed.identityStoreId,
          AlternateIdentifier: {
            UniqueAttribute: { AttributePath: "emails.value", AttributeValue: "nobody@example.com" },
          },
        }),
      ),
    );
    expect(error.name).toBe("ResourceNotFoundException");
    expect(error).toMatchObject({ ResourceType: "USER" });
    expect((error as { RequestId?: string }).RequestId).toBe(error.$metadata?.requestId);

    const described = await caught(
      client.send(
        new DescribeUserCommand({
          IdentityStoreId: seed.identityStoreId,
          UserId: "00000000-0000-4000-8000-000000000000",
        }),
      ),
    );
    expect(described).toMatchObject({ name: "ResourceNotFoundException", ResourceType: "USER" });
  });

  it("reports an unknown identity store and bad attribute paths", async () => {
    const store = await caught(client.send(new ListUsersCommand({ IdentityStoreId: "d-ffffffffff" })));
    expect(store).toMatchObject({ name: "ResourceNotFoundException", ResourceType: "IDENTITY_STORE" });

    const path = await caught(
      client.send(
        new GetUserIdCommand({
          IdentityStoreId: seed.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: "displayName", AttributeValue: "Alice" } },
        }),
      ),
    );
    expect(path.name).toBe("ValidationException");

    const malformed = await caught(client.send(new ListUsersCommand({ IdentityStoreId: "store-1" })));
    expect(malformed.name).toBe("ValidationException");
  });

  it("describes a user with names and emails", async () => {
    const user = await client.send(
      new DescribeUserCommand({ IdentityStoreId: seed.identityStoreId, UserId: seed.users.alice }),
    );
    expect(user).toMatchObject({
      UserId: seed.users.alice,
      UserName: "alice",
      IdentityStoreId: seed.identityStoreId,
      Name: { GivenName: "Alice", FamilyName: "Liddell", Formatted: "Alice Liddell" },
      Emails: [{ Value: "alice@example.com", Type: "work", Primary: true }],
    });
    expect(user.CreatedAt).toBeInstanceOf(Date);
  });

  it("pages users and filters them by UserName", async () => {
    const first = await client.send(
      new ListUsersCommand({ IdentityStoreId: seed.identityStoreId, MaxResults: 3 }),
    );
    expect(first.Users).toHaveLength(3);
    expect(first.NextToken).toBeDefined();

    const names: string[] = [];
    for await (const page of paginateListUsers(
      { client, pageSize: 1 },
      { IdentityStoreId: seed.identityStoreId },
    )) {
      names.push(...(page.Users ?? []).map((user) => user.UserName ?? ""));
    }
    expect(names).toEqual(["alice", "bob", "carol", "dave"]);

    const filtered = await client.send(
      new ListUsersCommand({
        IdentityStoreId: seed.identityStoreId,
        Filters: [{ AttributePath: "UserName", AttributeValue: "carol" }],
      }),
    );
    expect(filtered.Users?.map((user) => user.UserId)).toEqual([seed.users.carol]);
  });

  it("finds, describes and lists groups", async () => {
    const found = await client.send(
      new GetGroupIdCommand({
        IdentityStoreId: seed.identityStoreId,
        AlternateIdentifier: {
          UniqueAttribute: { AttributePath: "displayName", AttributeValue: "Engineering" },
        },
      }),
    );
    expect(found.GroupId).toBe(seed.groups.Engineering);
    const described = await client.send(
      new DescribeGroupCommand({ IdentityStoreId: seed.identityStoreId, GroupId: seed.groups.Engineering }),
    );
    expect(described.DisplayName).toBe("Engineering");
    const listed = await client.send(
      new ListGroupsCommand({
        IdentityStoreId: seed.identityStoreId,
        Filters: [{ AttributePath: "DisplayName", AttributeValue: "engineering" }],
      }),
    );
    expect(listed.Groups?.map((group) => group.GroupId)).toEqual([seed.groups.Engineering]);
  });
});
