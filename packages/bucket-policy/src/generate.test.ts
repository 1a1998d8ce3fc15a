import { describe, expect, it } from "vitest";
import { type ContextValue, evaluate, type PolicyInput } from "./evaluate.js";
import { type GeneratedBucketPolicy, generateBucketPolicy } from "./generate.js";
import type { BucketSpec } from "./spec.js";
import { parseBucketSpec, permissionSetPatterns, permissionSetsOf } from "./spec.js";

const ACCOUNT = "111122223333";
const BUCKET = "keyturn-data";
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const CI = `arn:aws:iam::${ACCOUNT}:role/deploy/ci`;
const SSO = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com`;
const s3AccessRole = (suffix: string, region = "eu-west-1/") =>
  `${SSO}/${region}AWSReservedSSO_S3Access_${suffix}`;
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const FOREIGN_KEY = "arn:aws:kms:eu-west-1:444455556666:key/ffffffff-12ab-34cd-56ef-1234567890ab";
const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

const storySpec = (overrides: Partial<BucketSpec> = {}): BucketSpec => ({
  bucket: BUCKET,
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN }],
    "read-config": [{ roleArn: ADMIN }],
    "read-data": [{ permissionSet: "S3Access" }],
    "write-data": [{ permissionSet: "S3Access" }],
    "delete-data": [{ permissionSet: "S3Access" }],
  },
  ...overrides,
});

function generated(spec: BucketSpec): GeneratedBucketPolicy {
  const result = generateBucketPolicy(spec);
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value;
}

function decide(
  policy: GeneratedBucketPolicy,
  request: {
    arn: string;
    action: string;
    key?: string | null;
    identityPolicy?: unknown;
    context?: Record<string, ContextValue | undefined>;
  },
) {
  const policies: PolicyInput[] = [{ kind: "resource", name: "bucket", document: policy.policy }];
  if (request.identityPolicy !== undefined) {
    policies.push({ kind: "identity", name: "identity", document: request.identityPolicy });
  }
  const result = evaluate(
    {
      // A session of the role, as S3 sees every caller that uses one.
      principal: {
        type: "AWS",
        arn: request.arn,
        accountId: ACCOUNT,
        sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${request.arn.split("/").at(-1)}/alice`,
      },
      action: request.action,
      resource:
        request.key === null ? `arn:aws:s3:::${BUCKET}` : `arn:aws:s3:::${BUCKET}/${request.key ?? "a.csv"}`,
      context: {
        "aws:PrincipalArn": request.arn,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:SecureTransport": "true",
        "aws:CurrentTime": "2030-01-01T00:00:00.000Z",
        ...request.context,
      },
    },
    policies,
  );
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return { decision: result.evaluation.decision, sids: result.evaluation.decidedBy.map((ref) => ref.sid) };
}

describe("generateBucketPolicy: statements", () => {
  it("emits the k9 statements, the data denies and nothing else, in a fixed order", () => {
    const { policy } = generated(storySpec());
    expect(policy.Statement.map((statement) => statement.Sid)).toEqual([
      "AllowRestrictedAdministerResource",
      "AllowRestrictedReadConfig",
      "AllowRestrictedReadData",
      "AllowRestrictedWriteData",
      "AllowRestrictedDeleteData",
      "DenyEveryoneElse",
      "DenyInsecureCommunications",
      "DenyStorageWithoutKMSEncryption",
      "DenyReadDataToOthers",
      "DenyWriteDataToOthers",
      "DenyDeleteDataToOthers",
    ]);
    expect(policy.Version).toBe("2012-10-17");
    for (const statement of policy.Statement) {
      expect(statement.Principal).toEqual({ AWS: "*" });
    }
  });

  it("writes each statement as k9 does, with both path forms of a permission set's role", () => {
    const { policy } = generated(storySpec());
    const bySid = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, statement]));
    const sets = permissionSetPatterns(ACCOUNT, "S3Access");
    expect(sets).toEqual([
      `${SSO}/AWSReservedSSO_S3Access_????????????????`,
      `${SSO}/*/AWSReservedSSO_S3Access_????????????????`,
    ]);
    expect(bySid.AllowRestrictedReadConfig).toMatchObject({
      Effect: "Allow",
      Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
      Condition: { ArnEquals: { "aws:PrincipalArn": [ADMIN] } },
    });
    expect(bySid.AllowRestrictedReadData).toMatchObject({
      Action: [
        "s3:GetObject",
        "s3:GetObjectTorrent",
        "s3:GetObjectVersion",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionTorrent",
        "s3:ListBucket",
      ],
      Condition: { ArnLike: { "aws:PrincipalArn": [...sets].sort() } },
    });
    expect(bySid.AllowRestrictedDeleteData).toMatchObject({ Resource: [`arn:aws:s3:::${BUCKET}/*`] });
    expect(bySid.AllowRestrictedAdministerResource?.Action).toHaveLength(28);
    expect(bySid.AllowRestrictedReadConfig?.Action).toHaveLength(33);
    expect(bySid.DenyEveryoneElse).toMatchObject({
      Effect: "Deny",
      Action: ["s3:*"],
      Condition: { ArnNotLike: { "aws:PrincipalArn": [ADMIN, ...sets].sort() } },
    });
    expect(bySid.DenyInsecureCommunications).toMatchObject({
      Condition: { Bool: { "aws:SecureTransport": ["false"] } },
    });
    // Only a present, wrong header: UploadPart never carries one (S3 "Multipart upload API and
    // permissions"), and the bucket's default SSE-KMS covers uploads that name none.
    expect(bySid.DenyStorageWithoutKMSEncryption).toEqual({
      Sid: "DenyStorageWithoutKMSEncryption",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:PutObject"],
      Resource: [`arn:aws:s3:::${BUCKET}/*`],
      Condition: {
        Null: { "s3:x-amz-server-side-encryption": ["false"] },
        StringNotEquals: { "s3:x-amz-server-side-encryption": ["aws:kms"] },
      },
    });
    expect(bySid.DenyReadDataToOthers).toMatchObject({
      Condition: { ArnNotLike: { "aws:PrincipalArn": [...sets].sort() } },
    });
    // Bucket tags are configuration: administrators keep PutBucketTagging.
    expect(bySid.DenyWriteDataToOthers?.Action).not.toContain("s3:PutBucketTagging");
    expect(bySid.AllowRestrictedWriteData?.Action).toContain("s3:PutBucketTagging");
  });

  it("uses ArnEquals/ArnNotEquals when every principal is an exact role", () => {
    const { policy } = generated({
      bucket: BUCKET,
      capabilities: { "administer-resource": [{ roleArn: ADMIN }], "read-data": [{ roleArn: CI }] },
    });
    const bySid = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, statement]));
    expect(bySid.DenyEveryoneElse?.Condition).toEqual({
      ArnNotEquals: { "aws:PrincipalArn": [ADMIN, CI].sort() },
    });
    expect(bySid.DenyReadDataToOthers?.Condition).toEqual({ ArnNotEquals: { "aws:PrincipalArn": [CI] } });
    expect(bySid.AllowRestrictedReadData?.Condition).toEqual({ ArnEquals: { "aws:PrincipalArn": [CI] } });
  });

  it("omits capabilities nobody holds, and denies their data actions to everyone", () => {
    const { policy } = generated({
      bucket: BUCKET,
      capabilities: { "administer-resource": [{ roleArn: ADMIN }] },
    });
    const sids = policy.Statement.map((statement) => statement.Sid);
    expect(sids).not.toContain("AllowRestrictedReadData");
    const deny = policy.Statement.find((statement) => statement.Sid === "DenyDeleteDataToOthers");
    expect(deny).toBeDefined();
    expect(deny?.Condition).toBeUndefined();
  });

  it("leaves the KMS denies out when kmsRequired is false", () => {
    const sids = generated(storySpec({ kmsRequired: false })).policy.Statement.map(
      (statement) => statement.Sid,
    );
    expect(sids).not.toContain("DenyStorageWithoutKMSEncryption");
    expect(sids).toContain("DenyInsecureCommunications");
  });

  it("pins the KMS key: a key id other than the key's ARN, or SSE-KMS without one, is denied", () => {
    const pinned = generated(storySpec({ kmsKeyArn: KEY }));
    const { policy } = pinned;
    const bySid = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, statement]));
    expect(policy.Statement.map((statement) => statement.Sid)).toContain("DenyUnexpectedKMSKey");
    expect(bySid.DenyUnexpectedKMSKey).toMatchObject({
      Action: ["s3:PutObject"],
      Condition: {
        Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": ["false"] },
        StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": [KEY] },
      },
    });
    expect(bySid.DenyKMSWithoutPinnedKey).toMatchObject({
      Condition: {
        Null: {
          "s3:x-amz-server-side-encryption": ["false"],
          "s3:x-amz-server-side-encryption-aws-kms-key-id": ["true"],
        },
      },
    });
    const sse = "s3:x-amz-server-side-encryption";
    const keyId = "s3:x-amz-server-side-encryption-aws-kms-key-id";
    const put = (context: Record<string, string>) =>
      decide(pinned, { arn: s3AccessRole("0123456789abcdef"), action: "s3:PutObject", context });
    expect(put({}).decision).toBe("Allow");
    expect(put({ [sse]: "aws:kms", [keyId]: KEY }).decision).toBe("Allow");
    expect(put({ [sse]: "aws:kms", [keyId]: FOREIGN_KEY }).sids).toEqual(["DenyUnexpectedKMSKey"]);
    expect(put({ [sse]: "aws:kms", [keyId]: "alias/mine" }).sids).toEqual(["DenyUnexpectedKMSKey"]);
    expect(put({ [sse]: "aws:kms" }).sids).toEqual(["DenyKMSWithoutPinnedKey"]);
    expect(put({ [sse]: "AES256" }).sids).toEqual([
      "DenyStorageWithoutKMSEncryption",
      "DenyKMSWithoutPinnedKey",
    ]);
  });

  it("refuses a pinned key that is not a key ARN, or one with kmsRequired false", () => {
    const aliasKey = generateBucketPolicy(
      storySpec({ kmsKeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/data` }),
    );
    expect(aliasKey).toMatchObject({ ok: false, error: { problems: [{ path: "kmsKeyArn" }] } });
    const bareId = generateBucketPolicy(storySpec({ kmsKeyArn: "1234abcd-12ab-34cd-56ef-1234567890ab" }));
    expect(bareId).toMatchObject({ ok: false, error: { problems: [{ path: "kmsKeyArn" }] } });
    const conflicting = generateBucketPolicy(storySpec({ kmsKeyArn: KEY, kmsRequired: false }));
    expect(conflicting).toMatchObject({
      ok: false,
      error: { problems: [{ path: "kmsKeyArn", message: "pins a key, so kmsRequired cannot be false" }] },
    });
  });

  it("adds one DenyEndedSessions statement per set and boundary, lapsing at its last cut-off", () => {
    const cutoff = (user: string, set: string, until: string, issuedBefore?: string) => ({
      identityStoreUserId: user,
      accountId: ACCOUNT,
      permissionSet: set,
      until,
      ...(issuedBefore === undefined ? {} : { issuedBefore }),
    });
    const spec = storySpec({
      capabilities: {
        ...storySpec().capabilities,
        "read-data": [{ permissionSet: "S3Access" }, { permissionSet: "S3Read" }],
      },
      sessionCutoffs: [
        cutoff("user-b", "S3Access", "2030-01-01T02:00:00Z"),
        cutoff("user-a", "S3Access", "2030-01-01T01:00:00.000Z"),
        cutoff("user-b", "S3Access", "2030-01-01T01:30:00+00:00"),
        cutoff("user-c", "S3Access", "2030-01-01T03:00:00Z", "2030-01-01T02:00:00Z"),
        cutoff("user-a", "S3Read", "2030-01-01T01:00:00Z"),
      ],
    });
    const { policy, cutoffs } = generated(spec);
    const resources = [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`];
    const deny = (sid: string, set: string, times: Record<string, string>, users: string[]) => ({
      Sid: sid,
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:*",
      Resource: resources,
      Condition: {
        ArnLike: { "aws:PrincipalArn": permissionSetPatterns(ACCOUNT, set) },
        DateLessThan: times,
        StringLike: { "identitystore:userId": users },
      },
    });
    expect(policy.Statement.slice(-3)).toEqual([
      deny("DenyEndedSessions1", "S3Access", { "aws:CurrentTime": "2030-01-01T02:00:00.000Z" }, [
        "user-a",
        "user-b",
      ]),
      deny(
        "DenyEndedSessions2",
        "S3Access",
        { "aws:CurrentTime": "2030-01-01T03:00:00.000Z", "aws:TokenIssueTime": "2030-01-01T02:00:00.000Z" },
        ["user-c"],
      ),
      deny("DenyEndedSessions3", "S3Read", { "aws:CurrentTime": "2030-01-01T01:00:00.000Z" }, ["user-a"]),
    ]);
    expect(cutoffs).toEqual({ listed: 4, prearmed: 0, prearmDeferred: 0, roleWide: [] });
    expect(generated(storySpec()).policy.Statement.map((s) => s.Sid)).not.toContain("DenyEndedSessions1");
  });

  it("writes a long-form Identity Store id as its UUID under a wildcard, other ids as they are", () => {
    const long = "906739ffd8-6d3c4f1e-0b6a-4b7e-9a51-2f0c1d2e3f40";
    const { policy } = generated(
      storySpec({
        sessionCutoffs: [long, "6d3c4f1e-0b6a-4b7e-9a51-2f0c1d2e3f41"].map((identityStoreUserId) => ({
          identityStoreUserId,
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          until: "2030-01-01T01:00:00Z",
        })),
      }),
    );
    expect(policy.Statement.at(-1)?.Condition).toMatchObject({
      StringLike: {
        "identitystore:userId": [
          "*-6d3c4f1e-0b6a-4b7e-9a51-2f0c1d2e3f40",
          "6d3c4f1e-0b6a-4b7e-9a51-2f0c1d2e3f41",
        ],
      },
    });
  });
});

describe("generateBucketPolicy: determinism and size", () => {
  it("gives byte-identical output for the same spec written in another order", () => {
    const a = generated({
      bucket: BUCKET,
      accountId: ACCOUNT,
      capabilities: {
        "read-data": [
          { permissionSet: "S3Access" },
          { roleArn: CI },
          { permissionSet: "Analysts", accountId: "444455556666" },
        ],
        "administer-resource": [{ roleArn: ADMIN }, { roleArn: CI }],
      },
      sessionCutoffs: [
        {
          identityStoreUserId: "u2",
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          until: "2030-01-01T00:00:00Z",
        },
        {
          identityStoreUserId: "u1",
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          until: "2030-01-01T00:00:00Z",
        },
      ],
    });
    const b = generated({
      sessionCutoffs: [
        {
          until: "2030-01-01T00:00:00.000Z",
          permissionSet: "S3Access",
          identityStoreUserId: "u1",
          accountId: ACCOUNT,
        },
        {
          identityStoreUserId: "u2",
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          until: "2030-01-01T00:00:00+00:00",
        },
      ],
      capabilities: {
        "administer-resource": [{ roleArn: CI }, { roleArn: ADMIN }, { roleArn: ADMIN }],
        "read-data": [
          { accountId: "444455556666", permissionSet: "Analysts" },
          { roleArn: CI },
          { permissionSet: "S3Access", accountId: ACCOUNT },
        ],
      },
      accountId: ACCOUNT,
      bucket: BUCKET,
    } as BucketSpec);
    expect(b.json).toBe(a.json);
    expect(a.bytes).toBe(new TextEncoder().encode(a.json).length);
    expect(JSON.parse(a.json)).toEqual(a.policy);
    // Compact canonical text: no whitespace between tokens, elements in reading order.
    expect(
      a.json.startsWith(
        '{"Version":"2012-10-17","Statement":[{"Sid":"AllowRestrictedAdministerResource","Effect":"Allow","Principal":{"AWS":"*"},"Action":[',
      ),
    ).toBe(true);
  });

  it("refuses a policy over S3's 20 KB with POLICY_TOO_LARGE and its size, never truncating", () => {
    const roles = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ roleArn: `arn:aws:iam::${ACCOUNT}:role/team/reader-${i}` }));
    const fits = generateBucketPolicy({ bucket: BUCKET, capabilities: { "read-data": roles(20) } });
    expect(fits.ok).toBe(true);
    const result = generateBucketPolicy({
      bucket: BUCKET,
      capabilities: { "read-data": roles(120), "write-data": roles(120) },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatchObject({ code: "POLICY_TOO_LARGE", limit: 20 * 1024 });
      expect(result.error.code === "POLICY_TOO_LARGE" && result.error.size).toBeGreaterThan(20 * 1024);
      expect(result.error.message).toMatch(/\d+ bytes; S3 accepts at most 20480/);
    }
  });

  it("finds the exact boundary: the largest spec that fits is at most 20480 bytes", () => {
    const spec = (count: number): BucketSpec => ({
      bucket: BUCKET,
      capabilities: {
        "read-data": Array.from({ length: count }, (_, i) => ({
          roleArn: `arn:aws:iam::${ACCOUNT}:role/r${i}`,
        })),
      },
    });
    let count = 1;
    while (generateBucketPolicy(spec(count + 1)).ok) {
      count += 1;
    }
    const last = generated(spec(count));
    expect(last.bytes).toBeLessThanOrEqual(20 * 1024);
    const over = generateBucketPolicy(spec(count + 1));
    expect(!over.ok && over.error.code === "POLICY_TOO_LARGE" && over.error.size).toBeGreaterThan(20 * 1024);
  });
});

describe("parseBucketSpec: validation", () => {
  const problemsOf = (input: unknown) => {
    const result = parseBucketSpec(input);
    return result.ok ? [] : result.error.problems;
  };

  it.each([
    [
      "an unknown capability",
      { bucket: BUCKET, capabilities: { "read-everything": [{ roleArn: ADMIN }] } },
      "capabilities.read-everything",
      /not a capability/,
    ],
    [
      "a malformed role ARN",
      { bucket: BUCKET, capabilities: { "read-data": [{ roleArn: "arn:aws:iam::1:role/x" }] } },
      "capabilities.read-data[0].roleArn",
      /IAM role ARN/,
    ],
    [
      "a role ARN with a wildcard",
      { bucket: BUCKET, capabilities: { "read-data": [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/*` }] } },
      "capabilities.read-data[0].roleArn",
      /IAM role ARN/,
    ],
    [
      "an exact Identity Center role",
      { bucket: BUCKET, capabilities: { "read-data": [{ roleArn: s3AccessRole("0123456789abcdef") }] } },
      "capabilities.read-data[0].roleArn",
      /new suffix: use \{ permissionSet/,
    ],
    [
      "a bad permission set name",
      { bucket: BUCKET, accountId: ACCOUNT, capabilities: { "read-data": [{ permissionSet: "S3 Access" }] } },
      "capabilities.read-data[0].permissionSet",
      /permission set name/,
    ],
    [
      "a permission set name over 32 characters",
      {
        bucket: BUCKET,
        accountId: ACCOUNT,
        capabilities: { "read-data": [{ permissionSet: "x".repeat(33) }] },
      },
      "capabilities.read-data[0].permissionSet",
      /permission set name/,
    ],
    [
      "a permission set without any account",
      { bucket: BUCKET, capabilities: { "read-data": [{ permissionSet: "S3Access" }] } },
      "capabilities.read-data[0].accountId",
      /required when the spec has no accountId/,
    ],
    [
      "a principal with both forms",
      { bucket: BUCKET, capabilities: { "read-data": [{ roleArn: ADMIN, permissionSet: "S3Access" }] } },
      "capabilities.read-data[0]",
      /either/,
    ],
    [
      "a bad bucket name",
      { bucket: "Bad_Bucket", capabilities: { "read-data": [{ roleArn: ADMIN }] } },
      "bucket",
      /bucket name/,
    ],
    [
      "a bad account id",
      { bucket: BUCKET, accountId: "1234", capabilities: { "read-data": [{ roleArn: ADMIN }] } },
      "accountId",
      /12-digit/,
    ],
    [
      "an unknown field",
      { bucket: BUCKET, capabilities: { "read-data": [{ roleArn: ADMIN }] }, public: true },
      "public",
      /not a known field/,
    ],
    ["nobody at all", { bucket: BUCKET, capabilities: {} }, "capabilities", /at least one principal/],
    [
      "a cut-off without an offset",
      {
        bucket: BUCKET,
        capabilities: { "read-data": [{ roleArn: ADMIN }] },
        sessionCutoffs: [
          {
            identityStoreUserId: "u1",
            accountId: ACCOUNT,
            permissionSet: "S3Access",
            until: "2030-01-01T00:00:00",
          },
        ],
      },
      "sessionCutoffs[0].until",
      /ISO 8601/,
    ],
    [
      "kmsRequired as a string",
      { bucket: BUCKET, capabilities: { "read-data": [{ roleArn: ADMIN }] }, kmsRequired: "yes" },
      "kmsRequired",
      /true or false/,
    ],
  ])("rejects %s", (_name, input, path, message) => {
    const problems = problemsOf(input);
    expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
    const generatedResult = generateBucketPolicy(input as BucketSpec);
    expect(generatedResult.ok).toBe(false);
    expect(!generatedResult.ok && generatedResult.error.code).toBe("INVALID_SPEC");
  });

  it("reports every problem at once, with a summary naming the first", () => {
    const result = parseBucketSpec({
      bucket: "x",
      capabilities: { nope: [], "read-data": [{ roleArn: "no" }] },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.problems).toHaveLength(3);
      expect(result.error.message).toMatch(/^invalid bucket spec: bucket must be .* \(and 2 more\)$/);
    }
  });

  it("lists the permission sets a spec names", () => {
    expect(
      permissionSetsOf(
        storySpec({
          capabilities: {
            "read-data": [
              { permissionSet: "S3Access" },
              { permissionSet: "Audit", accountId: "444455556666" },
            ],
            "write-data": [{ permissionSet: "S3Access" }, { roleArn: ADMIN }],
          },
        }),
      ),
    ).toEqual([
      { accountId: ACCOUNT, name: "S3Access" },
      { accountId: "444455556666", name: "Audit" },
    ]);
  });
});

describe("the generated policy, evaluated", () => {
  const policy = generated(
    storySpec({
      sessionCutoffs: [
        {
          identityStoreUserId: "ended-user",
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          until: "2030-01-01T01:00:00Z",
        },
        {
          identityStoreUserId: "regranted-user",
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          until: "2030-01-01T01:00:00Z",
          issuedBefore: "2030-01-01T00:20:00Z",
        },
      ],
    }),
  );
  const dataRole = s3AccessRole("0123456789abcdef");

  it("keeps an AdministratorAccess admin away from the data, but lets them administer and read config", () => {
    const admin = { arn: ADMIN, identityPolicy: ALLOW_ALL };
    expect(decide(policy, { ...admin, action: "s3:GetObject" })).toEqual({
      decision: "ExplicitDeny",
      sids: ["DenyReadDataToOthers"],
    });
    expect(decide(policy, { ...admin, action: "s3:DeleteObject" }).sids).toEqual(["DenyDeleteDataToOthers"]);
    expect(
      decide(policy, {
        ...admin,
        action: "s3:PutObject",
        context: { "s3:x-amz-server-side-encryption": "aws:kms" },
      }).sids,
    ).toEqual(["DenyWriteDataToOthers"]);
    expect(decide(policy, { ...admin, action: "s3:ListBucket", key: null }).decision).toBe("ExplicitDeny");
    expect(decide(policy, { arn: ADMIN, action: "s3:GetBucketPolicy", key: null }).decision).toBe("Allow");
    expect(decide(policy, { arn: ADMIN, action: "s3:PutBucketPolicy", key: null }).decision).toBe("Allow");
    expect(decide(policy, { arn: ADMIN, action: "s3:PutBucketTagging", key: null }).decision).toBe("Allow");
  });

  it("lets the S3Access role read, and write with SSE-KMS or the bucket default, in either role-path form and any suffix", () => {
    for (const arn of [
      dataRole,
      s3AccessRole("fedcba9876543210", ""),
      s3AccessRole("aaaabbbbccccdddd", "ap-south-1/"),
    ]) {
      expect(decide(policy, { arn, action: "s3:GetObject" }).decision).toBe("Allow");
      expect(
        decide(policy, {
          arn,
          action: "s3:PutObject",
          context: { "s3:x-amz-server-side-encryption": "aws:kms" },
        }).decision,
      ).toBe("Allow");
      expect(
        decide(policy, {
          arn,
          action: "s3:PutObject",
          context: { "s3:x-amz-server-side-encryption": "AES256" },
        }).sids,
      ).toEqual(["DenyStorageWithoutKMSEncryption"]);
      // No header (a plain upload taking the bucket default, or an UploadPart): allowed.
      expect(decide(policy, { arn, action: "s3:PutObject" }).decision).toBe("Allow");
      expect(
        decide(policy, { arn, action: "s3:GetObject", context: { "aws:SecureTransport": "false" } }).sids,
      ).toEqual(["DenyInsecureCommunications"]);
    }
  });

  it("refuses roles nobody listed, even with an allow-everything identity policy", () => {
    const stranger = `arn:aws:iam::${ACCOUNT}:role/ReadOnlyEverywhere`;
    expect(decide(policy, { arn: stranger, action: "s3:GetObject", identityPolicy: ALLOW_ALL }).sids).toEqual(
      ["DenyEveryoneElse", "DenyReadDataToOthers"],
    );
    expect(
      decide(policy, { arn: stranger, action: "s3:GetBucketPolicy", key: null, identityPolicy: ALLOW_ALL })
        .sids,
    ).toEqual(["DenyEveryoneElse"]);
  });

  it("does not let a set sharing the name's prefix (or its suffix) through", () => {
    const lookalikes = [
      `${SSO}/eu-west-1/AWSReservedSSO_S3Access_Admin_5555666677778888`,
      `${SSO}/AWSReservedSSO_S3Access_Admin_5555666677778888`,
      `${SSO}/eu-west-1/AWSReservedSSO_S3AccessAdmin_9999aaaabbbbcccc`,
      `${SSO}/eu-west-1/AWSReservedSSO_X_AWSReservedSSO_S3Access_0123456789abcdef`,
      `${SSO}/eu-west-1/AWSReservedSSO_S3Access_0123456789abcde`,
    ];
    for (const arn of lookalikes) {
      expect(decide(policy, { arn, action: "s3:GetObject", identityPolicy: ALLOW_ALL }).decision).toBe(
        "ExplicitDeny",
      );
    }
    // The single-pattern form `.../sso.amazonaws.com/*AWSReservedSSO_<Name>_<16 ?>` would have let
    // the suffix-sharing set through, which is why the generator anchors the name on a "/".
    const loose = `${SSO}/*AWSReservedSSO_S3Access_${"?".repeat(16)}`;
    const looseResult = evaluate(
      {
        principal: { type: "AWS", arn: lookalikes[3] ?? "", accountId: ACCOUNT },
        action: "s3:GetObject",
        resource: `arn:aws:s3:::${BUCKET}/a`,
        context: { "aws:PrincipalArn": lookalikes[3] },
      },
      [
        {
          kind: "resource",
          name: "loose",
          document: {
            Statement: [
              {
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: "*",
                Condition: { ArnLike: { "aws:PrincipalArn": loose } },
              },
            ],
          },
        },
      ],
    );
    expect(looseResult.ok && looseResult.evaluation.decision).toBe("Allow");
  });

  // IAM User Guide, "Revoking IAM role temporary security credentials": a Deny on
  // aws:TokenIssueTime DateLessThan refuses sessions issued before the instant, not later ones.
  it("refuses a cut-off user's sessions of that set until the cut-off lapses, and nobody else's", () => {
    const session = (userId: string, at: string, issued = "2030-01-01T00:00:00Z", arn = dataRole) => ({
      arn,
      action: "s3:GetObject",
      context: { "identitystore:userId": userId, "aws:CurrentTime": at, "aws:TokenIssueTime": issued },
    });
    expect(decide(policy, session("ended-user", "2030-01-01T00:30:00Z")).sids).toEqual([
      "DenyEndedSessions1",
    ]);
    // Even a session minted after the end (Identity Center not done removing the assignment).
    expect(
      decide(policy, session("ended-user", "2030-01-01T00:30:00Z", "2030-01-01T00:29:00Z")).decision,
    ).toBe("ExplicitDeny");
    expect(decide(policy, session("other-user", "2030-01-01T00:30:00Z")).decision).toBe("Allow");
    expect(decide(policy, session("ended-user", "2030-01-01T01:00:01Z")).decision).toBe("Allow");
    // Another set's role is not this cut-off's business.
    const otherSet = `${SSO}/eu-west-1/AWSReservedSSO_S3Read_0123456789abcdef`;
    expect(
      decide(policy, session("ended-user", "2030-01-01T00:30:00Z", undefined, otherSet)).sids,
    ).not.toContain("DenyEndedSessions1");
    // Held again from 00:20: the old session stays refused, the new grant's sessions work.
    expect(
      decide(policy, session("regranted-user", "2030-01-01T00:30:00Z", "2030-01-01T00:10:00Z")).sids,
    ).toEqual(["DenyEndedSessions2"]);
    expect(
      decide(policy, session("regranted-user", "2030-01-01T00:30:00Z", "2030-01-01T00:20:00Z")).decision,
    ).toBe("Allow");
  });
});
