import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import { ACCOUNT, ADMIN_KEY, caught, s3Client, standardSeed } from "./test-helpers.js";
import type { AwsEmulator } from "./types.js";

// Multipart uploads as @aws-sdk/lib-storage drives them (CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload), authorized as s3:PutObject with only the first
// call carrying the encryption headers (S3 "Multipart upload API and permissions").

const BUCKET = "multipart-data";
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = "arn:aws:kms:eu-west-1:444455556666:key/ffffffff-12ab-34cd-56ef-1234567890ab";
const WRITER_KEY = "AKIAWRITERSESSION001";
const MiB = 1024 * 1024;
const SSE = "s3:x-amz-server-side-encryption";
const SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id";

const writerPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: [
        "s3:PutObject",
        "s3:GetObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:ListBucketMultipartUploads",
      ],
      Resource: "*",
    },
  ],
};
const storageDenies = (...statements: Record<string, unknown>[]) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((statement) => ({
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${BUCKET}/*`,
      ...statement,
    })),
  });
// What Keyturn generates: deny only a present wrong header or key id.
const keyturnDenies = storageDenies(
  {
    Sid: "DenyStorageWithoutKMSEncryption",
    Condition: { Null: { [SSE]: "false" }, StringNotEquals: { [SSE]: "aws:kms" } },
  },
  {
    Sid: "DenyUnexpectedKMSKey",
    Condition: { Null: { [SSE_KEY]: "false" }, StringNotEquals: { [SSE_KEY]: KEY_ARN } },
  },
);
// k9's original pair: the missing header on UploadPart trips it.
const k9Denies = storageDenies(
  { Sid: "DenyUnencryptedStorage", Condition: { Null: { [SSE]: "true" } } },
  { Sid: "DenyStorageWithoutKMSEncryption", Condition: { StringNotEquals: { [SSE]: "aws:kms" } } },
);

const bytes = (size: number, seed: number) => {
  const buffer = Buffer.alloc(size);
  for (let index = 0; index < size; index += 4096) {
    buffer.writeUInt32BE((index * 2654435761 + seed) >>> 0, index);
  }
  return buffer;
};

describe("multipart uploads", () => {
  let emulator: AwsEmulator;
  let admin: S3Client;
  let writer: S3Client;

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 31 });
    emulator.seed({
      ...standardSeed(),
      buckets: [
        {
          name: BUCKET,
          accountId: ACCOUNT,
          encryption: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN, bucketKeyEnabled: true },
        },
      ],
      callers: [
        ...(standardSeed().callers ?? []),
        {
          accessKeyId: WRITER_KEY,
          roleArn: `arn:aws:iam::${ACCOUNT}:role/Writer`,
          accountId: ACCOUNT,
          sessionName: "alice",
          policies: [writerPolicy],
        },
      ],
    });
    admin = s3Client(emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" });
    writer = s3Client(emulator, { accessKeyId: WRITER_KEY, secretAccessKey: "x" });
    await admin.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: keyturnDenies }));
  });
  afterAll(async () => {
    admin.destroy();
    writer.destroy();
    await emulator.close();
  });

  it("creates, uploads parts, lists them and completes, with S3's multipart ETag", async () => {
    const first = bytes(5 * MiB, 1);
    const second = bytes(1234, 2);
    const created = await writer.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "raw.bin" }));
    // No header: the bucket's default SSE-KMS key applies, fixed at creation.
    expect(created.ServerSideEncryption).toBe("aws:kms");
    expect(created.SSEKMSKeyId).toBe(KEY_ARN);
    const uploadId = created.UploadId;
    const parts = [];
    for (const [index, body] of [first, second].entries()) {
      const part = await writer.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: "raw.bin",
          UploadId: uploadId,
          PartNumber: index + 1,
          Body: body,
        }),
      );
      parts.push({ PartNumber: index + 1, ETag: part.ETag });
    }
    const listed = await writer.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: "raw.bin", UploadId: uploadId }),
    );
    expect(listed.Parts?.map((part) => [part.PartNumber, part.Size])).toEqual([
      [1, 5 * MiB],
      [2, 1234],
    ]);
    const done = await writer.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "raw.bin",
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    const head = await writer.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "raw.bin" }));
    expect(head).toMatchObject({
      ContentLength: 5 * MiB + 1234,
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: KEY_ARN,
      ETag: done.ETag,
    });
    const body = await (
      await writer.send(new GetObjectCommand({ Bucket: BUCKET, Key: "raw.bin" }))
    ).Body?.transformToByteArray();
    expect(Buffer.from(body ?? []).equals(Buffer.concat([first, second]))).toBe(true);
  });

  it("uploads 12 MiB with lib-storage's Upload: parts carry no SSE header and pass the denies", async () => {
    const data = bytes(12 * MiB, 3);
    const result = await new Upload({
      client: writer,
      params: { Bucket: BUCKET, Key: "big.bin", Body: data },
    }).done();
    expect(result.ETag).toMatch(/-3"$/);
    const uploads = emulator
      .callLog()
      .filter((call) => call.operation === "UploadPart" && call.outcome === "ok");
    expect(uploads.length).toBeGreaterThanOrEqual(3);
    const head = await writer.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "big.bin" }));
    expect(head).toMatchObject({
      ContentLength: 12 * MiB,
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: KEY_ARN,
    });
  });

  it("refuses an upload naming AES256 or another key at CreateMultipartUpload, and leaves nothing behind", async () => {
    const aes = await caught(
      new Upload({
        client: writer,
        params: { Bucket: BUCKET, Key: "aes.bin", Body: bytes(6 * MiB, 4), ServerSideEncryption: "AES256" },
      }).done(),
    );
    expect(aes.name).toBe("AccessDenied");
    expect(aes.message).toContain('Sid "DenyStorageWithoutKMSEncryption"');
    const foreignKey = await caught(
      writer.send(
        new CreateMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "foreign.bin",
          ServerSideEncryption: "aws:kms",
          SSEKMSKeyId: OTHER_KEY,
        }),
      ),
    );
    expect(foreignKey.message).toContain('Sid "DenyUnexpectedKMSKey"');
    const pinned = await writer.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "pinned.bin",
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: KEY_ARN,
      }),
    );
    expect(pinned.SSEKMSKeyId).toBe(KEY_ARN);
    await writer.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "pinned.bin", UploadId: pinned.UploadId }),
    );
    const open = await writer.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(open.Uploads ?? []).toEqual([]);
  });

  it("shows why k9's original storage denies break multipart: UploadPart has no SSE header", async () => {
    await admin.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: k9Denies }));
    try {
      const created = await writer.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "k9.bin", ServerSideEncryption: "aws:kms" }),
      );
      const part = await caught(
        writer.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: "k9.bin",
            UploadId: created.UploadId,
            PartNumber: 1,
            Body: "x",
          }),
        ),
      );
      expect(part.message).toContain('Sid "DenyUnencryptedStorage"');
    } finally {
      await admin.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: keyturnDenies }));
    }
  });

  it("answers S3's errors: a small middle part, an unknown part, parts out of order, an unknown upload", async () => {
    const created = await writer.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "bad.bin" }));
    const upload = { Bucket: BUCKET, Key: "bad.bin", UploadId: created.UploadId };
    const one = await writer.send(new UploadPartCommand({ ...upload, PartNumber: 1, Body: "small" }));
    const two = await writer.send(new UploadPartCommand({ ...upload, PartNumber: 2, Body: "tail" }));
    const complete = (Parts: { PartNumber: number; ETag: string | undefined }[]) =>
      caught(writer.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts } })));
    expect(
      (
        await complete([
          { PartNumber: 1, ETag: one.ETag },
          { PartNumber: 2, ETag: two.ETag },
        ])
      ).name,
    ).toBe("EntityTooSmall");
    expect((await complete([{ PartNumber: 3, ETag: one.ETag }])).name).toBe("InvalidPart");
    expect(
      (
        await complete([
          { PartNumber: 2, ETag: two.ETag },
          { PartNumber: 1, ETag: one.ETag },
        ])
      ).name,
    ).toBe("InvalidPartOrder");
    const badNumber = await caught(
      writer.send(new UploadPartCommand({ ...upload, PartNumber: 10_001, Body: "x" })),
    );
    expect(badNumber.name).toBe("InvalidArgument");
    await writer.send(new AbortMultipartUploadCommand(upload));
    expect(
      (await caught(writer.send(new UploadPartCommand({ ...upload, PartNumber: 1, Body: "x" })))).name,
    ).toBe("NoSuchUpload");
    expect((await caught(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "bad.bin" })))).name).toBe(
      "NotFound",
    );
  });

  it("encrypts a PutObject with aws:kms but no key id under aws/s3, as S3 documents", async () => {
    await admin.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: keyturnDenies }));
    const put = await writer.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "managed.bin",
        Body: "x",
        ServerSideEncryption: "aws:kms",
      }),
    );
    expect(put.SSEKMSKeyId).toBe(`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/aws/s3`);
    const plain = await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: "default.bin", Body: "x" }));
    expect(plain).toMatchObject({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: KEY_ARN });
    const keyWithoutKms = await caught(
      writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: "odd.bin", Body: "x", SSEKMSKeyId: KEY_ARN })),
    );
    expect(keyWithoutKms.name).toBe("InvalidArgument");
  });
});
