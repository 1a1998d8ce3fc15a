import { describe, expect, it } from "vitest";
import type { BucketPolicySpec } from "./bucket-policy-ports.js";
import { defaultEncryptionProblem } from "./bucket-policy-support.js";

// The generated storage denies refuse only a present, wrong encryption header (multipart parts
// carry none), so the bucket's default encryption has to be SSE-KMS for "nothing is stored
// without SSE-KMS" to hold (S3 API "PutObject": without a header the bucket default applies).

const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const spec = (overrides: Partial<BucketPolicySpec> = {}): BucketPolicySpec => ({
  bucket: "data",
  capabilities: {},
  ...overrides,
});

describe("defaultEncryptionProblem", () => {
  it("accepts SSE-KMS (or DSSE-KMS) by default, with any key when none is pinned", () => {
    expect(defaultEncryptionProblem("data", spec(), { sseAlgorithm: "aws:kms" })).toBeUndefined();
    expect(
      defaultEncryptionProblem("data", spec(), { sseAlgorithm: "aws:kms:dsse", kmsMasterKeyId: "alias/x" }),
    ).toBeUndefined();
  });

  it("refuses SSE-S3 or no default, naming the command that fixes it", () => {
    const aes = defaultEncryptionProblem("data", spec(), { sseAlgorithm: "AES256" });
    expect(aes).toContain("bucket 'data' encrypts new objects with AES256 by default");
    expect(aes).toContain(
      `aws s3api put-bucket-encryption --bucket data --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}'`,
    );
    expect(defaultEncryptionProblem("data", spec(), null)).toContain("has no default encryption");
  });

  it("with a pinned key, wants that key as the default, by ARN or key id", () => {
    const pinned = spec({ kmsKeyArn: KEY });
    expect(
      defaultEncryptionProblem("data", pinned, { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }),
    ).toBeUndefined();
    expect(
      defaultEncryptionProblem("data", pinned, {
        sseAlgorithm: "aws:kms",
        kmsMasterKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      }),
    ).toBeUndefined();
    const awsManaged = defaultEncryptionProblem("data", pinned, { sseAlgorithm: "aws:kms" });
    expect(awsManaged).toContain("under the AWS managed key aws/s3");
    expect(awsManaged).toContain(`"KMSMasterKeyID":"${KEY}"`);
    expect(
      defaultEncryptionProblem("data", pinned, { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/other" }),
    ).toContain("under alias/other");
  });

  it("has nothing to say when the spec does not require KMS", () => {
    expect(
      defaultEncryptionProblem("data", spec({ kmsRequired: false }), { sseAlgorithm: "AES256" }),
    ).toBeUndefined();
  });
});
