// Large uploads under Keyturn's policy, end to end: the policy is generated from a spec that pins
// the bucket's KMS key and applied through the real use case and S3 adapter; a writer's SSO
// session then uploads 20 MiB with @aws-sdk/lib-storage (multipart: CreateMultipartUpload,
// UploadPart, CompleteMultipartUpload) against the AWS emulator, which evaluates every call with
// the request context S3 builds (only CreateMultipartUpload carries the encryption headers).
import { randomUUID } from "node:crypto";
import {
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { Upload } from "@aws-sdk/lib-storage";
import { createBucketPolicyStore } from "@keyturn/aws";
import { createBucketPolicyUnitOfWork, createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import {
  ADMIN_KEY,
  ADMIN_ROLE_ARN,
  caught,
  keyturnCaller,
  portalClient,
  s3Client,
  sessionS3Client,
  standardSeed,
} from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  applyBucketPolicy,
  type BucketPolicyS3Deps,
  bucketAccessReport,
  putProtectedBucket,
} from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ACCOUNT = "111122223333";
const BUCKET = "large-data";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const FOREIGN_KEY = "arn:aws:kms:eu-west-1:444455556666:key/ffffffff-12ab-34cd-56ef-1234567890ab";
const KEYTURN_KEY = "AKIAKEYTURNKMSTEST01";
const KEYTURN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const MiB = 1024 * 1024;
const admin = { type: "token", id: "test-admin", label: "test" } as const;

const spec = {
  accountId: ACCOUNT,
  kmsKeyArn: KEY,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
    "read-config": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
    "read-data": [{ permissionSet: "S3Access" }],
    "write-data": [{ permissionSet: "S3Access" }],
  },
};

const database = useTestDatabase();
const clock = { now: () => new Date() };
let db: PrismaClient;
let emulator: AwsEmulator;
let deps: BucketPolicyS3Deps;
let adminS3: S3Client;
let writer: S3Client;

beforeAll(async () => {
  db = createPrismaClient({ databaseUrl: database.url, maxConnections: 2 });
  emulator = await startAwsEmulator({ seed: 29, assignmentDelayMs: 0 });
  const seed = standardSeed();
  emulator.seed({
    ...seed,
    assignments: [{ accountId: ACCOUNT, permissionSet: "S3Access", principal: { userName: "alice" } }],
    callers: [...(seed.callers ?? []), keyturnCaller(KEYTURN_KEY, KEYTURN_ROLE_ARN, [BUCKET])],
    buckets: [
      {
        name: BUCKET,
        accountId: ACCOUNT,
        encryption: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY, bucketKeyEnabled: true },
      },
    ],
  });
  deps = {
    uow: createBucketPolicyUnitOfWork(db, { clock, ids: { uuid: randomUUID } }),
    clock,
    store: createBucketPolicyStore({
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: KEYTURN_KEY, secretAccessKey: "x" },
      retry: { maxAttempts: 1 },
    }),
  };
  adminS3 = s3Client(emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" });
  const portal = portalClient(emulator);
  try {
    const { accessToken } = emulator.signIn("alice");
    const output = await portal.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "S3Access" }),
    );
    writer = sessionS3Client(emulator, output.roleCredentials);
  } finally {
    portal.destroy();
  }
});

afterAll(async () => {
  writer?.destroy();
  adminS3?.destroy();
  await emulator?.close();
  await db?.$disconnect();
});

/** 20 MiB that differ from byte to byte, so a reordered or dropped part shows. */
function payload(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let offset = 0; offset + 4 <= size; offset += 4) {
    buffer.writeUInt32LE((offset * 2654435761) >>> 0, offset);
  }
  return buffer;
}

const upload = (key: string, body: Buffer, sse: Record<string, string> = {}) =>
  new Upload({ client: writer, params: { Bucket: BUCKET, Key: key, Body: body, ...sse } }).done();

describe("multipart uploads under the generated policy with a pinned KMS key", () => {
  it("applies the policy once the bucket's default encryption is the pinned key", async () => {
    expect((await putProtectedBucket(deps, { name: BUCKET, spec, by: admin })).ok).toBe(true);
    const applied = await applyBucketPolicy(deps, { name: BUCKET, by: admin, reason: "test" });
    expect(applied.ok && applied.value.put).toBe(true);
    const live = JSON.parse(
      (await adminS3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy ?? "{}",
    ) as { Statement: Array<{ Sid: string }> };
    const sids = live.Statement.map((statement) => statement.Sid);
    expect(sids).toEqual(
      expect.arrayContaining([
        "DenyStorageWithoutKMSEncryption",
        "DenyUnexpectedKMSKey",
        "DenyKMSWithoutPinnedKey",
      ]),
    );
    expect(sids).not.toContain("DenyUnencryptedStorage");
  });

  it("takes a 20 MiB upload by a writer in parts, stored under the pinned key", async () => {
    emulator.clearCallLog();
    const data = payload(20 * MiB);
    const result = await upload("big/plain.bin", data);
    expect(result.ETag).toMatch(/^"[0-9a-f]{32}-4"$/);
    const parts = emulator.callLog().filter((call) => call.operation === "UploadPart");
    expect(parts).toHaveLength(4);
    expect(parts.every((call) => call.outcome === "ok")).toBe(true);
    const head = await writer.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "big/plain.bin" }));
    expect(head).toMatchObject({
      ContentLength: 20 * MiB,
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: KEY,
    });
    const body = await (
      await writer.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big/plain.bin" }))
    ).Body?.transformToByteArray();
    expect(Buffer.from(body ?? []).equals(data)).toBe(true);
    // Naming the pinned key explicitly works too.
    const named = await upload("big/named.bin", payload(6 * MiB), {
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: KEY,
    });
    expect(named.ETag).toMatch(/-2"$/);
  });

  it("refuses an upload naming another account's key, AES256, or SSE-KMS without the key", async () => {
    const foreign = await caught(
      upload("big/foreign.bin", payload(6 * MiB), {
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: FOREIGN_KEY,
      }),
    );
    expect(foreign.name).toBe("AccessDenied");
    expect(foreign.message).toContain('Sid "DenyUnexpectedKMSKey"');
    const aes = await caught(upload("big/aes.bin", payload(6 * MiB), { ServerSideEncryption: "AES256" }));
    expect(aes.message).toContain('Sid "DenyStorageWithoutKMSEncryption"');
    const managed = await caught(
      upload("big/managed.bin", payload(6 * MiB), { ServerSideEncryption: "aws:kms" }),
    );
    expect(managed.message).toContain('Sid "DenyKMSWithoutPinnedKey"');
    // Refused at CreateMultipartUpload: no part was sent, no upload is left open, nothing stored.
    const open = await adminS3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(open.Uploads ?? []).toEqual([]);
    for (const key of ["big/foreign.bin", "big/aes.bin", "big/managed.bin"]) {
      expect(
        (await caught(writer.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).$metadata
          ?.httpStatusCode,
      ).toBe(404);
    }
  });

  it("reports the set's write access as granted and nothing as undetermined", async () => {
    const report = await bucketAccessReport(deps, { name: BUCKET });
    expect(report.ok).toBe(true);
    if (!report.ok) {
      return;
    }
    const writeData = report.value.capabilities.find((entry) => entry.capability === "write-data");
    expect(writeData?.grants).toContainEqual(
      expect.objectContaining({
        principal: { kind: "permission-set", accountId: ACCOUNT, name: "S3Access" },
        allActions: true,
        extra: false,
      }),
    );
    expect(report.value.capabilities.flatMap((entry) => entry.undetermined)).toEqual([]);
  });
});
