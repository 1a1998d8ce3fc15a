import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BucketPolicyStore, createBucketPolicyStore } from "./s3-client.js";
import { ACCOUNT, ADMIN_KEY, appError, instantTime } from "./test-helpers.js";

// The real S3Client against the emulator's path-style REST-XML S3, as the bucket administrator.

const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

const policy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "AllowAdminRead",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` },
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::data-bucket/*",
    },
  ],
});

let emu: AwsEmulator;
let store: BucketPolicyStore;

beforeEach(async () => {
  emu = await startAwsEmulator({ seed: 3 });
  emu.seed({
    accounts: [ACCOUNT],
    callers: [
      {
        accessKeyId: ADMIN_KEY,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
        accountId: ACCOUNT,
        policies: [allowAll],
      },
    ],
    buckets: [
      { name: "data-bucket", accountId: ACCOUNT },
      {
        name: "kms-bucket",
        accountId: ACCOUNT,
        encryption: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:eu-west-1:111122223333:key/k1",
          bucketKeyEnabled: true,
        },
      },
      { name: "plain-bucket", accountId: ACCOUNT, encryption: null },
    ],
  });
  store = createBucketPolicyStore({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: ADMIN_KEY, secretAccessKey: "not-checked" },
    retry: { baseMs: 1, capMs: 5 },
  });
});

afterEach(async () => {
  store.close();
  await emu.close();
});

describe("bucket policies", () => {
  it("reads no policy as null, then puts one and reads it back", async () => {
    expect(await store.getPolicy("data-bucket")).toBeNull();
    await store.putPolicy("data-bucket", policy);
    expect(await store.getPolicy("data-bucket")).toBe(policy);
    expect(emu.callLog().map((call) => `${call.operation}:${call.outcome}`)).toEqual([
      "GetBucketPolicy:NoSuchBucketPolicy",
      "PutBucketPolicy:ok",
      "GetBucketPolicy:ok",
    ]);
  });

  it("refuses a malformed policy with AWS's reason, without retrying", async () => {
    const error = await appError(store.putPolicy("data-bucket", "not json"));
    expect([error.code, error.retryable]).toEqual(["AWS_MALFORMED_POLICY", false]);
    expect(error.message).toContain("valid JSON");
    expect(emu.callLog()).toHaveLength(1);
  });

  it("reports a missing bucket as AWS_NO_SUCH_BUCKET", async () => {
    const error = await appError(store.getPolicy("no-such-bucket"));
    expect([error.code, error.retryable]).toEqual(["AWS_NO_SUCH_BUCKET", false]);
  });

  it("retries SlowDown and internal errors", async () => {
    emu.faults.failNext({ operation: "PutBucketPolicy", code: "SlowDown", count: 2 });
    emu.faults.failNext({ operation: "GetBucketPolicy", code: "InternalError" });
    await store.putPolicy("data-bucket", policy);
    expect(await store.getPolicy("data-bucket")).toBe(policy);
    expect(emu.callLog().map((call) => `${call.operation}:${call.outcome}`)).toEqual([
      "PutBucketPolicy:SlowDown",
      "PutBucketPolicy:SlowDown",
      "PutBucketPolicy:ok",
      "GetBucketPolicy:InternalError",
      "GetBucketPolicy:ok",
    ]);
  });

  it("gives up on persistent SlowDown with a retryable AWS_THROTTLED", async () => {
    const time = instantTime();
    const patient = createBucketPolicyStore({
      region: emu.region,
      endpoint: emu.endpoint,
      credentials: { accessKeyId: ADMIN_KEY, secretAccessKey: "not-checked" },
      retry: { maxAttempts: 3 },
      time,
    });
    try {
      emu.faults.failNext({ operation: "GetBucketPolicy", code: "SlowDown", count: 10 });
      const error = await appError(patient.getPolicy("data-bucket"));
      expect([error.code, error.retryable]).toEqual(["AWS_THROTTLED", true]);
      expect(time.sleeps).toHaveLength(2);
      expect(emu.callLog()).toHaveLength(3);
    } finally {
      patient.close();
    }
  });
});

describe("bucket encryption", () => {
  it("reads the default rule, and null when there is none", async () => {
    expect(await store.getEncryption("data-bucket")).toEqual({
      sseAlgorithm: "AES256",
      bucketKeyEnabled: false,
    });
    expect(await store.getEncryption("kms-bucket")).toEqual({
      sseAlgorithm: "aws:kms",
      kmsMasterKeyId: "arn:aws:kms:eu-west-1:111122223333:key/k1",
      bucketKeyEnabled: true,
    });
    expect(await store.getEncryption("plain-bucket")).toBeNull();
  });
});
