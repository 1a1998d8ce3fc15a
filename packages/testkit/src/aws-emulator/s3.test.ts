import { Readable } from "node:stream";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { CreateAccountAssignmentCommand } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import {
  ACCOUNT,
  ADMIN_KEY,
  ADMIN_ROLE_ARN,
  allowAll,
  caught,
  OTHER_ACCOUNT,
  portalClient,
  s3Client,
  sessionS3Client,
  ssoAdminClient,
  standardSeed,
} from "./test-helpers.js";
import type { AwsEmulator, SeedResult } from "./types.js";

const ROLE_PATTERN = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_S3Access_*`;

describe("S3 path-style REST-XML", () => {
  let emulator: AwsEmulator;
  let admin: S3Client;
  const clients: S3Client[] = [];

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 9 });
    emulator.seed({
      ...standardSeed(),
      buckets: [{ name: "unencrypted", accountId: ACCOUNT, encryption: null }],
    });
    admin = s3Client(emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" });
    clients.push(admin);
  });
  afterAll(async () => {
    for (const client of clients) {
      client.destroy();
    }
    await emulator.close();
  });

  it("creates, heads and lists buckets", async () => {
    await admin.send(new CreateBucketCommand({ Bucket: "crud" }));
    const head = await admin.send(new HeadBucketCommand({ Bucket: "crud" }));
    expect(head.BucketRegion).toBe("eu-west-1");
    expect(head.$metadata.requestId).toMatch(/^[0-9A-F]{16}$/);
    const listed = await admin.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((bucket) => bucket.Name)).toEqual(["unencrypted", "crud"]);
    expect(listed.Buckets?.[1]?.CreationDate).toBeInstanceOf(Date);

    const again = await caught(admin.send(new CreateBucketCommand({ Bucket: "crud" })));
    expect(again.name).toBe("BucketAlreadyOwnedByYou");
    const invalid = await caught(admin.send(new CreateBucketCommand({ Bucket: "Not_Valid" })));
    expect(invalid.name).toBe("InvalidBucketName");
    const missing = await caught(admin.send(new HeadBucketCommand({ Bucket: "missing" })));
    expect(missing.name).toBe("NotFound");
    expect(missing.$metadata?.httpStatusCode).toBe(404);
  });

  it("puts, gets, heads, lists and deletes objects", async () => {
    const put = await admin.send(
      new PutObjectCommand({
        Bucket: "crud",
        Key: "reports/2030/q1 summary.txt",
        Body: "first quarter",
        ContentType: "text/plain",
        Metadata: { owner: "alice" },
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.ServerSideEncryption).toBe("AES256");

    const got = await admin.send(
      new GetObjectCommand({ Bucket: "crud", Key: "reports/2030/q1 summary.txt" }),
    );
    expect(await got.Body?.transformToString()).toBe("first quarter");
    expect(got.ContentType).toBe("text/plain");
    expect(got.Metadata).toEqual({ owner: "alice" });
    expect(got.ETag).toBe(put.ETag);

    const head = await admin.send(
      new HeadObjectCommand({ Bucket: "crud", Key: "reports/2030/q1 summary.txt" }),
    );
    expect(head.ContentLength).toBe("first quarter".length);
    expect(head.LastModified).toBeInstanceOf(Date);

    for (const key of ["reports/2030/q2.txt", "reports/2031/q1.txt", "readme.md"]) {
      await admin.send(new PutObjectCommand({ Bucket: "crud", Key: key, Body: key }));
    }
    const prefixed = await admin.send(new ListObjectsV2Command({ Bucket: "crud", Prefix: "reports/2030/" }));
    expect(prefixed.Contents?.map((object) => object.Key)).toEqual([
      "reports/2030/q1 summary.txt",
      "reports/2030/q2.txt",
    ]);
    expect(prefixed.KeyCount).toBe(2);
    expect(prefixed.Contents?.[0]?.Size).toBe("first quarter".length);

    const grouped = await admin.send(
      new ListObjectsV2Command({ Bucket: "crud", Prefix: "reports/", Delimiter: "/" }),
    );
    expect(grouped.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual([
      "reports/2030/",
      "reports/2031/",
    ]);
    expect(grouped.Contents).toBeUndefined();

    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await admin.send(
        new ListObjectsV2Command({ Bucket: "crud", MaxKeys: 2, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token !== undefined);
    expect(keys).toEqual([
      "readme.md",
      "reports/2030/q1 summary.txt",
      "reports/2030/q2.txt",
      "reports/2031/q1.txt",
    ]);

    const notEmpty = await caught(admin.send(new DeleteBucketCommand({ Bucket: "crud" })));
    expect(notEmpty.name).toBe("BucketNotEmpty");
    for (const key of keys) {
      await admin.send(new DeleteObjectCommand({ Bucket: "crud", Key: key }));
    }
    const gone = await caught(admin.send(new GetObjectCommand({ Bucket: "crud", Key: "readme.md" })));
    expect(gone.name).toBe("NoSuchKey");
    expect(gone.$metadata?.httpStatusCode).toBe(404);
    await admin.send(new DeleteBucketCommand({ Bucket: "crud" }));
    const noBucket = await caught(admin.send(new GetObjectCommand({ Bucket: "crud", Key: "readme.md" })));
    expect(noBucket.name).toBe("NoSuchBucket");
  });

  it("decodes aws-chunked uploads of streams with checksum trailers", async () => {
    await admin.send(new CreateBucketCommand({ Bucket: "streams" }));
    const text = "x".repeat(100_000);
    await admin.send(
      new PutObjectCommand({
        Bucket: "streams",
        Key: "big.txt",
        Body: Readable.from([Buffer.from(text.slice(0, 40_000)), Buffer.from(text.slice(40_000))]),
        ContentLength: text.length,
      }),
    );
    const call = emulator.callLog().at(-1);
    expect(call?.operation).toBe("PutObject");
    const got = await admin.send(new GetObjectCommand({ Bucket: "streams", Key: "big.txt" }));
    expect(await got.Body?.transformToString()).toBe(text);
  });

  it("round-trips a bucket policy and validates it", async () => {
    await admin.send(new CreateBucketCommand({ Bucket: "policies" }));
    const missing = await caught(admin.send(new GetBucketPolicyCommand({ Bucket: "policies" })));
    expect(missing.name).toBe("NoSuchBucketPolicy");

    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AdminsAll",
          Effect: "Allow",
          Principal: { AWS: ADMIN_ROLE_ARN },
          Action: "s3:*",
          Resource: ["arn:aws:s3:::policies", "arn:aws:s3:::policies/*"],
        },
      ],
    });
    const put = await admin.send(new PutBucketPolicyCommand({ Bucket: "policies", Policy: policy }));
    expect(put.$metadata.httpStatusCode).toBe(204);
    const got = await admin.send(new GetBucketPolicyCommand({ Bucket: "policies" }));
    expect(got.Policy).toBe(policy);

    const invalidJson = await caught(
      admin.send(new PutBucketPolicyCommand({ Bucket: "policies", Policy: "{nope" })),
    );
    expect(invalidJson.name).toBe("MalformedPolicy");
    const noPrincipal = await caught(
      admin.send(
        new PutBucketPolicyCommand({
          Bucket: "policies",
          Policy: JSON.stringify({
            Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::policies" }],
          }),
        }),
      ),
    );
    expect(noPrincipal.name).toBe("MalformedPolicy");
    const otherBucket = await caught(
      admin.send(
        new PutBucketPolicyCommand({
          Bucket: "policies",
          Policy: JSON.stringify({
            Statement: [
              { Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::elsewhere/*" },
            ],
          }),
        }),
      ),
    );
    expect(otherBucket.message).toBe("Policy has invalid resource");
    const huge = JSON.stringify({
      Statement: [
        {
          Sid: "x".repeat(21_000),
          Effect: "Allow",
          Principal: "*",
          Action: "s3:*",
          Resource: "arn:aws:s3:::policies",
        },
      ],
    });
    const tooLarge = await caught(
      admin.send(new PutBucketPolicyCommand({ Bucket: "policies", Policy: huge })),
    );
    expect(tooLarge.name).toBe("MalformedPolicy");

    await admin.send(new DeleteBucketPolicyCommand({ Bucket: "policies" }));
    expect((await caught(admin.send(new GetBucketPolicyCommand({ Bucket: "policies" })))).name).toBe(
      "NoSuchBucketPolicy",
    );
  });

  it("reads and writes the default encryption", async () => {
    await admin.send(new CreateBucketCommand({ Bucket: "encrypted" }));
    const initial = await admin.send(new GetBucketEncryptionCommand({ Bucket: "encrypted" }));
    expect(
      initial.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    ).toBe("AES256");
    const keyArn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    await admin.send(
      new PutBucketEncryptionCommand({
        Bucket: "encrypted",
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: keyArn },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    const updated = await admin.send(new GetBucketEncryptionCommand({ Bucket: "encrypted" }));
    expect(updated.ServerSideEncryptionConfiguration?.Rules).toEqual([
      {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: keyArn },
        BucketKeyEnabled: true,
      },
    ]);
    const put = await admin.send(new PutObjectCommand({ Bucket: "encrypted", Key: "k", Body: "v" }));
    expect(put.ServerSideEncryption).toBe("aws:kms");
    expect(put.SSEKMSKeyId).toBe(keyArn);

    const none = await caught(admin.send(new GetBucketEncryptionCommand({ Bucket: "unencrypted" })));
    expect(none.name).toBe("ServerSideEncryptionConfigurationNotFoundError");
  });

  it("refuses unknown access keys and anonymous callers", async () => {
    const stranger = s3Client(emulator, { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" });
    clients.push(stranger);
    const error = await caught(stranger.send(new ListBucketsCommand({})));
    expect(error.name).toBe("InvalidAccessKeyId");
    expect(error.$metadata?.httpStatusCode).toBe(403);

    const anonymous = await fetch(`${emulator.endpoint}/unencrypted/file.txt`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain("<Code>AccessDenied</Code>");
  });
});

describe("S3 authorization with a k9-style bucket policy", () => {
  let emulator: AwsEmulator;
  let seed: SeedResult;
  const clients: S3Client[] = [];
  const BUCKET = "protected-data";

  function track(created: S3Client): S3Client {
    clients.push(created);
    return created;
  }

  async function sessionOf(user: string): Promise<S3Client> {
    const portal = portalClient(emulator);
    try {
      const { accessToken } = emulator.signIn(user);
      const output = await portal.send(
        new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "S3Access" }),
      );
      return track(sessionS3Client(emulator, output.roleCredentials));
    } finally {
      portal.destroy();
    }
  }

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 13, assignmentDelayMs: 0 });
    seed = emulator.seed(standardSeed());
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AllowRestrictedReadData",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: ["s3:GetObject", "s3:ListBucket", "s3:PutObject"],
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
          Condition: { ArnLike: { "aws:PrincipalArn": [ROLE_PATTERN] } },
        },
        {
          Sid: "DenyEndedSessions",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:*",
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
          Condition: { StringEquals: { "identitystore:userId": [seed.users.carol] } },
        },
        {
          Sid: "DenyEveryoneElse",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:*",
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
          Condition: { ArnNotLike: { "aws:PrincipalArn": [ROLE_PATTERN, ADMIN_ROLE_ARN] } },
        },
        {
          Sid: "DenyInsecureCommunications",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:*",
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        {
          Sid: "DenyUnencryptedStorage",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:PutObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
          Condition: { Null: { "s3:x-amz-server-side-encryption": "true" } },
        },
        {
          Sid: "DenyStorageWithoutKMSEncryption",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:PutObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
          Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
        },
      ],
    };
    emulator.seed({
      buckets: [{ name: BUCKET, accountId: ACCOUNT, policy, objects: { "data.csv": "a,b\n1,2\n" } }],
      callers: [
        {
          accessKeyId: "AKIAINTRUDER00000001",
          roleArn: `arn:aws:iam::${ACCOUNT}:role/Intruder`,
          accountId: ACCOUNT,
          policies: [allowAll],
        },
        {
          accessKeyId: "AKIAFOREIGN000000001",
          roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/Reader`,
          accountId: OTHER_ACCOUNT,
          policies: [allowAll],
        },
      ],
    });
    const admin = ssoAdminClient(emulator);
    for (const user of ["alice", "carol"]) {
      await admin.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: seed.instanceArn,
          TargetId: ACCOUNT,
          TargetType: "AWS_ACCOUNT",
          PermissionSetArn: seed.permissionSets.S3Access,
          PrincipalType: "USER",
          PrincipalId: seed.users[user],
        }),
      );
    }
    admin.destroy();
  });
  afterAll(async () => {
    for (const created of clients) {
      created.destroy();
    }
    await emulator.close();
  });

  it("lets an allowed SSO session read and refuses a user on the deny list, naming the statement", async () => {
    const alice = await sessionOf("alice");
    const object = await alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: "data.csv" }));
    expect(await object.Body?.transformToString()).toBe("a,b\n1,2\n");

    const carol = await sessionOf("carol");
    const denied = await caught(carol.send(new GetObjectCommand({ Bucket: BUCKET, Key: "data.csv" })));
    expect(denied.name).toBe("AccessDenied");
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    expect(denied.message).toContain('Sid "DenyEndedSessions"');
    expect(denied.message).toContain("/carol is not authorized to perform: s3:GetObject");
  });

  it("refuses other principals of the account, even with an Allow-all identity policy", async () => {
    const intruder = track(s3Client(emulator, { accessKeyId: "AKIAINTRUDER00000001", secretAccessKey: "x" }));
    const denied = await caught(intruder.send(new GetObjectCommand({ Bucket: BUCKET, Key: "data.csv" })));
    expect(denied.name).toBe("AccessDenied");
    expect(denied.message).toContain('Sid "DenyEveryoneElse"');
    const policy = await caught(intruder.send(new GetBucketPolicyCommand({ Bucket: BUCKET })));
    expect(policy.name).toBe("AccessDenied");
  });

  it("requires both policies to allow across accounts", async () => {
    const foreign = track(s3Client(emulator, { accessKeyId: "AKIAFOREIGN000000001", secretAccessKey: "x" }));
    const denied = await caught(foreign.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "data.csv" })));
    expect(denied.$metadata?.httpStatusCode).toBe(403);
  });

  it("denies requests that are not over TLS, by header or by fault switch", async () => {
    const alice = await sessionOf("alice");
    alice.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string> };
        request.headers["x-emulator-insecure"] = "1";
        return next(args);
      },
      { step: "build", name: "insecureTransport" },
    );
    const byHeader = await caught(alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: "data.csv" })));
    expect(byHeader.message).toContain('Sid "DenyInsecureCommunications"');

    const plain = await sessionOf("alice");
    emulator.faults.set({ insecureTransport: true });
    try {
      const bySwitch = await caught(plain.send(new GetObjectCommand({ Bucket: BUCKET, Key: "data.csv" })));
      expect(bySwitch.message).toContain('Sid "DenyInsecureCommunications"');
    } finally {
      emulator.faults.set({ insecureTransport: false });
    }
    expect(
      (await plain.send(new GetObjectCommand({ Bucket: BUCKET, Key: "data.csv" }))).$metadata.httpStatusCode,
    ).toBe(200);
  });

  it("enforces KMS encryption on PutObject from the request header", async () => {
    const alice = await sessionOf("alice");
    const missing = await caught(
      alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: "new.csv", Body: "x" })),
    );
    expect(missing.message).toContain('Sid "DenyUnencryptedStorage"');
    const wrong = await caught(
      alice.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "new.csv", Body: "x", ServerSideEncryption: "AES256" }),
      ),
    );
    expect(wrong.message).toContain('Sid "DenyStorageWithoutKMSEncryption"');
    const put = await alice.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "new.csv", Body: "x", ServerSideEncryption: "aws:kms" }),
    );
    expect(put.ServerSideEncryption).toBe("aws:kms");
    expect(put.SSEKMSKeyId).toBe(`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/aws/s3`);
  });

  it("composes aws:userid from the role id and session name", async () => {
    emulator.seed({
      buckets: [
        {
          name: "userid-bucket",
          accountId: ACCOUNT,
          objects: { "note.txt": "hi" },
          policy: {
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "OnlyAliceSessions",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "s3:GetObject",
                Resource: "arn:aws:s3:::userid-bucket/*",
                Condition: {
                  StringLike: { "aws:userid": "AROA*:alice" },
                  StringEquals: { "aws:PrincipalAccount": ACCOUNT },
                },
              },
            ],
          },
        },
      ],
    });
    const alice = await sessionOf("alice");
    expect(
      (await alice.send(new GetObjectCommand({ Bucket: "userid-bucket", Key: "note.txt" }))).$metadata
        .httpStatusCode,
    ).toBe(200);
    const carol = await sessionOf("carol");
    const denied = await caught(
      carol.send(new GetObjectCommand({ Bucket: "userid-bucket", Key: "note.txt" })),
    );
    expect(denied.message).toContain(
      "because no identity-based or resource-based policy allows the s3:GetObject action",
    );

    emulator.registerCaller("AKIAROLESESSION00001", {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/Tooling`,
      accountId: ACCOUNT,
      roleId: "AROAEXAMPLEROLEID0001",
      sessionName: "alice",
    });
    const tooling = track(s3Client(emulator, { accessKeyId: "AKIAROLESESSION00001", secretAccessKey: "x" }));
    expect(
      (await tooling.send(new GetObjectCommand({ Bucket: "userid-bucket", Key: "note.txt" }))).$metadata
        .httpStatusCode,
    ).toBe(200);
  });

  it("answers NoSuchKey only to callers who may list the bucket", async () => {
    const alice = await sessionOf("alice");
    expect((await caught(alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: "absent" })))).name).toBe(
      "NoSuchKey",
    );
    emulator.seed({ buckets: [{ name: "get-only", accountId: ACCOUNT }] });
    emulator.registerCaller("AKIAGETONLY000000001", {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/GetOnly`,
      accountId: ACCOUNT,
      policies: [
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] },
      ],
    });
    const getOnly = track(s3Client(emulator, { accessKeyId: "AKIAGETONLY000000001", secretAccessKey: "x" }));
    expect(
      (await caught(getOnly.send(new GetObjectCommand({ Bucket: "get-only", Key: "absent" })))).name,
    ).toBe("AccessDenied");
  });
});
