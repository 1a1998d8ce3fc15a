import {
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import {
  ACCOUNT,
  ADMIN_KEY,
  allowAll,
  caught,
  OTHER_ACCOUNT,
  portalClient,
  s3Client,
  sessionS3Client,
  standardSeed,
} from "./test-helpers.js";
import type { AwsEmulator } from "./types.js";

// The request context the emulator hands the evaluator, checked through bucket policies that
// depend on it, over the real SDK: who is calling (account, role, session, user, root, anonymous),
// from where (aws:SourceIp from the socket, IPv4 and IPv6), and S3's own exceptions for the
// bucket owner's root user.

const BUCKET = "context-data";
const OBJECT = `arn:aws:s3:::${BUCKET}/*`;
const TOOLING_ROLE = `arn:aws:iam::${ACCOUNT}:role/Tooling`;
const TOOLING_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/Tooling/alice`;
const USER_BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const KEYS = {
  tooling: "AKIATOOLINGSESSION01",
  toolingBob: "AKIATOOLINGSESSION02",
  bob: "AKIAUSERBOB000000001",
  root: "AKIAROOTACCOUNT00001",
  foreignRoot: "AKIAFOREIGNROOT00001",
  foreign: "AKIAFOREIGNROLE00001",
};

const allow = (extra: Record<string, unknown>) => ({
  Sid: "Read",
  Effect: "Allow",
  Principal: { AWS: "*" },
  Action: "s3:GetObject",
  Resource: OBJECT,
  ...extra,
});
const policyOf = (...statements: Record<string, unknown>[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });

describe("the S3 request context", () => {
  let emulator: AwsEmulator;
  const clients: S3Client[] = [];
  const client = (accessKeyId: string): S3Client => {
    const created = s3Client(emulator, { accessKeyId, secretAccessKey: "x" });
    clients.push(created);
    return created;
  };
  let admin: S3Client;
  const read = (as: S3Client) => as.send(new GetObjectCommand({ Bucket: BUCKET, Key: "note.txt" }));
  const setPolicy = (...statements: Record<string, unknown>[]) =>
    admin.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policyOf(...statements) }));
  const status = async (promise: Promise<{ $metadata: { httpStatusCode?: number } }>) =>
    (await promise).$metadata.httpStatusCode;

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 21, assignmentDelayMs: 0 });
    emulator.seed({
      ...standardSeed(),
      buckets: [{ name: BUCKET, accountId: ACCOUNT, objects: { "note.txt": "hi" } }],
      callers: [
        ...(standardSeed().callers ?? []),
        { accessKeyId: KEYS.tooling, roleArn: TOOLING_ROLE, accountId: ACCOUNT, sessionName: "alice" },
        { accessKeyId: KEYS.toolingBob, roleArn: TOOLING_ROLE, accountId: ACCOUNT, sessionName: "bob" },
        { accessKeyId: KEYS.bob, roleArn: USER_BOB, accountId: ACCOUNT },
        { accessKeyId: KEYS.root, roleArn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT },
        {
          accessKeyId: KEYS.foreignRoot,
          roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:root`,
          accountId: OTHER_ACCOUNT,
        },
        {
          accessKeyId: KEYS.foreign,
          roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/partner`,
          accountId: OTHER_ACCOUNT,
          sessionName: "dan",
          policies: [allowAll],
        },
      ],
    });
    admin = client(ADMIN_KEY);
  });
  afterAll(async () => {
    for (const created of clients) {
      created.destroy();
    }
    await emulator.close();
  });

  it("takes aws:SourceIp from the socket", async () => {
    await setPolicy(allow({ Condition: { IpAddress: { "aws:SourceIp": "127.0.0.0/8" } } }));
    expect(await status(read(client(KEYS.tooling)))).toBe(200);
    await setPolicy(allow({ Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }));
    expect((await caught(read(client(KEYS.tooling)))).name).toBe("AccessDenied");
  });

  it("serves an IPv6 caller (::1) and evaluates its address as IPv6", async () => {
    const v6 = await startAwsEmulator({ seed: 22, host: "::1", assignmentDelayMs: 0 });
    try {
      expect(v6.endpoint).toMatch(/^http:\/\/\[::1\]:\d+$/);
      v6.seed({
        accounts: [ACCOUNT],
        buckets: [
          {
            name: BUCKET,
            accountId: ACCOUNT,
            objects: { "note.txt": "hi" },
            policy: policyOf(
              allow({ Condition: { IpAddress: { "aws:SourceIp": ["::1/128", "2001:db8::/32"] } } }),
              {
                Sid: "NotFromTheLan",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: OBJECT,
                Condition: { NotIpAddress: { "aws:SourceIp": ["::/0", "10.0.0.0/8"] } },
              },
            ),
          },
        ],
        callers: [
          { accessKeyId: KEYS.tooling, roleArn: TOOLING_ROLE, accountId: ACCOUNT, sessionName: "alice" },
        ],
      });
      const overV6 = s3Client(v6, { accessKeyId: KEYS.tooling, secretAccessKey: "x" });
      try {
        const output = await overV6.send(new GetObjectCommand({ Bucket: BUCKET, Key: "note.txt" }));
        expect(await output.Body?.transformToString()).toBe("hi");
      } finally {
        overV6.destroy();
      }
    } finally {
      await v6.close();
    }
  });

  it("matches a session principal to that session only", async () => {
    await setPolicy(allow({ Principal: { AWS: TOOLING_SESSION } }));
    expect(await status(read(client(KEYS.tooling)))).toBe(200);
    const other = await caught(read(client(KEYS.toolingBob)));
    expect(other.name).toBe("AccessDenied");
    expect(other.message).toContain(`arn:aws:sts::${ACCOUNT}:assumed-role/Tooling/bob`);
  });

  it("treats an account principal as a delegation: the role also needs an identity Allow", async () => {
    await setPolicy(allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }));
    const bare = await caught(read(client(KEYS.tooling)));
    expect(bare.message).toContain("because no identity-based or resource-based policy allows");
    // Admin has AdministratorAccess: the account grant plus its identity policy let it in.
    expect(await status(read(admin))).toBe(200);
  });

  it("denies a role's sessions when a NotPrincipal Deny names only the role", async () => {
    const everyone = allow({ Principal: "*" });
    const exceptTooling = (...listed: string[]) => ({
      Sid: "OnlyTooling",
      Effect: "Deny",
      NotPrincipal: { AWS: listed },
      Action: "s3:GetObject",
      Resource: OBJECT,
    });
    await setPolicy(everyone, exceptTooling(TOOLING_ROLE));
    expect((await caught(read(client(KEYS.tooling)))).message).toContain('Sid "OnlyTooling"');
    await setPolicy(everyone, exceptTooling(`arn:aws:iam::${ACCOUNT}:root`, TOOLING_ROLE, TOOLING_SESSION));
    expect(await status(read(client(KEYS.tooling)))).toBe(200);
    expect((await caught(read(client(KEYS.toolingBob)))).message).toContain('Sid "OnlyTooling"');
  });

  it('lets anonymous callers in through {"AWS": "*"} exactly as through "*"', async () => {
    const anonymousGet = () => fetch(`${emulator.endpoint}/${BUCKET}/note.txt`);
    await setPolicy(allow({ Principal: { AWS: "*" } }));
    const response = await anonymousGet();
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hi");
    await setPolicy(
      allow({ Principal: { AWS: "*" }, Condition: { StringEquals: { "aws:PrincipalType": "Anonymous" } } }),
    );
    expect((await anonymousGet()).status).toBe(200);
    expect((await caught(read(client(KEYS.tooling)))).name).toBe("AccessDenied");
    await setPolicy(allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }));
    expect((await anonymousGet()).status).toBe(403);
  });

  it("names IAM users and the root user as AWS does: aws:username, aws:userid, aws:PrincipalType", async () => {
    await setPolicy(
      allow({ Condition: { StringEquals: { "aws:username": "bob", "aws:PrincipalType": "User" } } }),
      {
        Sid: "NoRootReads",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: OBJECT,
        Condition: { StringEquals: { "aws:userid": ACCOUNT, "aws:PrincipalType": "Account" } },
      },
    );
    expect(await status(read(client(KEYS.bob)))).toBe(200);
    expect((await caught(read(client(KEYS.root)))).message).toContain('Sid "NoRootReads"');
  });

  it("lets the bucket owner's root user, and nobody else, manage a policy that denies everyone", async () => {
    const denyAll = {
      Sid: "DenyAll",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [`arn:aws:s3:::${BUCKET}`, OBJECT],
    };
    await setPolicy(denyAll);
    // Locked out: the administrator with AdministratorAccess can no longer read or change it.
    expect((await caught(admin.send(new GetBucketPolicyCommand({ Bucket: BUCKET })))).name).toBe(
      "AccessDenied",
    );
    const root = client(KEYS.root);
    // The owner's root user still gets at the policy (S3 API "PutBucketPolicy"), not at the data.
    const live = await root.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
    expect(JSON.parse(live.Policy ?? "{}").Statement[0].Sid).toBe("DenyAll");
    expect((await caught(read(root))).message).toContain('Sid "DenyAll"');
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: policyOf(
          allow({
            Principal: { AWS: [`arn:aws:iam::${OTHER_ACCOUNT}:root`] },
            Action: "s3:*",
            Resource: [`arn:aws:s3:::${BUCKET}`, OBJECT],
          }),
        ),
      }),
    );
    // Another account, even one the policy allows, gets 405 for policy operations.
    const foreign = await caught(client(KEYS.foreign).send(new GetBucketPolicyCommand({ Bucket: BUCKET })));
    expect(foreign.name).toBe("MethodNotAllowed");
    expect(foreign.$metadata?.httpStatusCode).toBe(405);
    const foreignRoot = await caught(
      client(KEYS.foreignRoot).send(new DeleteBucketPolicyCommand({ Bucket: BUCKET })),
    );
    expect(foreignRoot.$metadata?.httpStatusCode).toBe(405);
    await root.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policyOf(denyAll) }));
    await root.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    expect((await caught(admin.send(new GetBucketPolicyCommand({ Bucket: BUCKET })))).name).toBe(
      "NoSuchBucketPolicy",
    );
  });

  it("refuses to guess where AWS's documentation does not decide: 501 naming the statement", async () => {
    await setPolicy(allow({ Principal: "*" }), {
      Sid: "HomeOnly",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:GetObject",
      NotResource: `arn:aws:s3:::${BUCKET}/home/\${aws:username}/*`,
    });
    // A role session has no aws:username: AWS says the statement "might" be invalid.
    const open = await caught(read(client(KEYS.tooling)));
    expect(open.name).toBe("NotImplemented");
    expect(open.$metadata?.httpStatusCode).toBe(501);
    expect(open.message).toContain('"HomeOnly"');
    // An IAM user has one, so the same policy decides for bob.
    expect((await caught(read(client(KEYS.bob)))).message).toContain('Sid "HomeOnly"');
  });

  it("gives an SSO session its role ARN, session ARN and Identity Center user id", async () => {
    const portal = portalClient(emulator);
    emulator.seed({
      assignments: [{ accountId: ACCOUNT, permissionSet: "S3Access", principal: { userName: "alice" } }],
    });
    const role = emulator.roles().find((entry) => entry.permissionSetName === "S3Access");
    const userId = emulator.snapshot().users.find((user) => user.userName === "alice")?.userId ?? "";
    try {
      const { accessToken } = emulator.signIn("alice");
      const output = await portal.send(
        new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "S3Access" }),
      );
      const alice = sessionS3Client(emulator, output.roleCredentials);
      clients.push(alice);
      const roleName = role?.name ?? "";
      await setPolicy(
        allow({
          Principal: { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/alice` },
          Condition: {
            ArnEquals: { "aws:PrincipalArn": role?.arn ?? "" },
            StringEquals: { "identitystore:userId": userId, "aws:PrincipalType": "AssumedRole" },
          },
        }),
      );
      expect(await status(read(alice))).toBe(200);
    } finally {
      portal.destroy();
    }
  });
});
