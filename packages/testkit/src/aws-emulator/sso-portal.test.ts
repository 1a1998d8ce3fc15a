import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  GetRoleCredentialsCommand,
  ListAccountRolesCommand,
  ListAccountsCommand,
  type RoleCredentials,
  type SSOClient,
} from "@aws-sdk/client-sso";
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  type SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import {
  ACCOUNT,
  caught,
  portalClient,
  sessionS3Client,
  ssoAdminClient,
  standardSeed,
} from "./test-helpers.js";
import type { AwsEmulator, SeedResult } from "./types.js";

const HOUR = 3600_000;

describe("SSO portal GetRoleCredentials", () => {
  let clock = Date.parse("2030-01-01T00:00:00.000Z");
  let emulator: AwsEmulator;
  let seed: SeedResult;
  let admin: SSOAdminClient;
  let portal: SSOClient;
  const s3Clients: S3Client[] = [];

  const assignment = (user: string, type: "USER" | "GROUP" = "USER") => ({
    InstanceArn: seed.instanceArn,
    TargetId: ACCOUNT,
    TargetType: "AWS_ACCOUNT" as const,
    PermissionSetArn: seed.permissionSets.S3Access,
    PrincipalType: type,
    PrincipalId: type === "USER" ? seed.users[user] : seed.groups[user],
  });

  async function credentialsFor(user: string) {
    const { accessToken } = emulator.signIn(user);
    const output = await portal.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "S3Access" }),
    );
    return output.roleCredentials;
  }

  function s3As(credentials: RoleCredentials | undefined) {
    const client = sessionS3Client(emulator, credentials);
    s3Clients.push(client);
    return client;
  }

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 5, assignmentDelayMs: 0, now: () => clock });
    seed = emulator.seed({
      ...standardSeed(),
      buckets: [
        {
          name: "portal-data",
          accountId: ACCOUNT,
          objects: { "hello.txt": "hello" },
          policy: {
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AllowS3AccessRole",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "s3:GetObject",
                Resource: "arn:aws:s3:::portal-data/*",
                Condition: {
                  ArnLike: {
                    "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_S3Access_*`,
                  },
                },
              },
            ],
          },
        },
      ],
    });
    admin = ssoAdminClient(emulator);
    portal = portalClient(emulator);
  });
  afterAll(async () => {
    for (const client of s3Clients) {
      client.destroy();
    }
    admin.destroy();
    portal.destroy();
    await emulator.close();
  });

  it("refuses a user without an assignment with ForbiddenException", async () => {
    const error = await caught(credentialsFor("alice"));
    expect(error.name).toBe("ForbiddenException");
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });

  it("refuses an unknown token with UnauthorizedException", async () => {
    const error = await caught(
      portal.send(
        new GetRoleCredentialsCommand({ accessToken: "bogus", accountId: ACCOUNT, roleName: "S3Access" }),
      ),
    );
    expect(error.name).toBe("UnauthorizedException");
  });

  it("issues session credentials that expire after the set's session duration", async () => {
    await admin.send(new CreateAccountAssignmentCommand(assignment("alice")));
    const credentials = await credentialsFor("alice");
    expect(credentials?.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(credentials?.secretAccessKey).toHaveLength(40);
    expect(credentials?.sessionToken).toBeTruthy();
    expect(credentials?.expiration).toBe(clock + HOUR);

    const object = await s3As(credentials).send(
      new GetObjectCommand({ Bucket: "portal-data", Key: "hello.txt" }),
    );
    expect(await object.Body?.transformToString()).toBe("hello");
    const log = emulator.callLog().filter((call) => call.operation === "GetObject");
    const role = emulator.roles().find((r) => r.permissionSetName === "S3Access");
    expect(log.at(-1)?.caller).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${role?.name}/alice`);
  });

  // IAM User Guide, "AWS global condition context keys": aws:TokenIssueTime is present in requests
  // signed with temporary credentials, and "Revoking IAM role temporary security credentials"
  // denies on it with DateLessThan: sessions issued before the instant are refused, later ones not.
  it("puts the session's issue time in the request context as aws:TokenIssueTime", async () => {
    const bucket = "issue-time";
    const before = await credentialsFor("alice");
    const boundary = new Date(clock + 2000).toISOString();
    clock += 2500;
    const after = await credentialsFor("alice");
    emulator.seed({
      buckets: [
        {
          name: bucket,
          accountId: ACCOUNT,
          objects: { "a.txt": "a" },
          policy: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "s3:GetObject",
                Resource: `arn:aws:s3:::${bucket}/*`,
                Condition: { Null: { "aws:TokenIssueTime": "false" } },
              },
              {
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: "s3:GetObject",
                Resource: `arn:aws:s3:::${bucket}/*`,
                Condition: { DateLessThan: { "aws:TokenIssueTime": boundary } },
              },
            ],
          },
        },
      ],
    });
    const get = (credentials: RoleCredentials | undefined) =>
      s3As(credentials).send(new GetObjectCommand({ Bucket: bucket, Key: "a.txt" }));
    expect((await caught(get(before))).name).toBe("AccessDenied");
    expect(await (await get(after)).Body?.transformToString()).toBe("a");
  });

  it("grants through a group assignment", async () => {
    await admin.send(new CreateAccountAssignmentCommand(assignment("Engineering", "GROUP")));
    const credentials = await credentialsFor("bob");
    expect(credentials?.accessKeyId).toBeDefined();
    const { accessToken } = emulator.signIn("bob");
    const accounts = await portal.send(new ListAccountsCommand({ accessToken }));
    expect(accounts.accountList?.map((account) => account.accountId)).toEqual([ACCOUNT]);
    const roles = await portal.send(new ListAccountRolesCommand({ accessToken, accountId: ACCOUNT }));
    expect(roles.roleList).toEqual([{ roleName: "S3Access", accountId: ACCOUNT }]);
    await admin.send(new DeleteAccountAssignmentCommand(assignment("Engineering", "GROUP")));
    expect((await caught(credentialsFor("bob"))).name).toBe("ForbiddenException");
  });

  it("keeps a live session working after the assignment is deleted, until it expires", async () => {
    const credentials = await credentialsFor("alice");
    const client = s3As(credentials);
    await admin.send(new DeleteAccountAssignmentCommand(assignment("alice")));
    expect(emulator.roles().filter((r) => r.permissionSetName === "S3Access")).toEqual([]);
    expect((await caught(credentialsFor("alice"))).name).toBe("ForbiddenException");

    clock += HOUR / 2;
    const object = await client.send(new GetObjectCommand({ Bucket: "portal-data", Key: "hello.txt" }));
    expect(await object.Body?.transformToString()).toBe("hello");

    clock += HOUR / 2;
    const expired = await caught(
      client.send(new GetObjectCommand({ Bucket: "portal-data", Key: "hello.txt" })),
    );
    expect(expired.name).toBe("ExpiredToken");
    expect(expired.$metadata?.httpStatusCode).toBe(400);
  });
});
