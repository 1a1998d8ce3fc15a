import { describe, expect, it } from "vitest";
import type { JsonPolicy } from "./canonical.js";
import { analyzeEffectiveAccess, type CapabilityAccess, type EffectiveAccess } from "./effective-access.js";
import { generateBucketPolicy } from "./generate.js";
import type { BucketSpec } from "./spec.js";

const ACCOUNT = "111122223333";
const BUCKET = "keyturn-data";
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const SSO = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com`;
const S3_ACCESS = { kind: "permission-set", accountId: ACCOUNT, name: "S3Access" } as const;

const spec: BucketSpec = {
  bucket: BUCKET,
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN }],
    "read-config": [{ roleArn: ADMIN }],
    "read-data": [{ permissionSet: "S3Access" }],
    "write-data": [{ permissionSet: "S3Access" }],
    "delete-data": [{ permissionSet: "S3Access" }],
  },
};

function policy(): JsonPolicy {
  const result = generateBucketPolicy(spec);
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value.policy;
}

function analyze(document: JsonPolicy | null): EffectiveAccess {
  const result = analyzeEffectiveAccess({
    bucket: BUCKET,
    policy: document === null ? null : JSON.stringify(document),
    accountId: ACCOUNT,
  });
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value;
}

const capability = (access: EffectiveAccess, name: CapabilityAccess["capability"]) => {
  const found = access.capabilities.find((entry) => entry.capability === name);
  if (found === undefined) {
    throw new Error(`no ${name}`);
  }
  return found;
};

describe("analyzeEffectiveAccess", () => {
  it("finds the generated policy's grants, by permission set and exact role, all Keyturn's own", () => {
    const access = analyze(policy());
    expect(capability(access, "read-data").granted).toEqual([
      {
        principal: S3_ACCESS,
        actions: expect.arrayContaining(["s3:GetObject", "s3:ListBucket"]),
        allActions: true,
        grantedBy: ["AllowRestrictedReadData"],
        owned: true,
      },
    ]);
    expect(capability(access, "administer-resource").granted).toEqual([
      expect.objectContaining({ principal: { kind: "arn", arn: ADMIN }, allActions: true, owned: true }),
      // k9 lists s3:PutBucketTagging under write-data too, so writers may tag the bucket.
      expect.objectContaining({ principal: S3_ACCESS, actions: ["s3:PutBucketTagging"], allActions: false }),
    ]);
    // The write-data grant includes SSE-KMS uploads (the probe sends aws:kms).
    const writers = capability(access, "write-data").granted;
    expect(writers.find((grant) => grant.principal.kind === "permission-set")?.allActions).toBe(true);
    // ...and administrators hold the one action k9 lists under both: PutBucketTagging.
    expect(writers.find((grant) => grant.principal.kind === "arn")?.actions).toEqual(["s3:PutBucketTagging"]);
    expect(access.unanalyzed).toEqual([]);
  });

  it("closes the data to everyone else, administrators with AdministratorAccess included", () => {
    const access = analyze(policy());
    for (const name of ["read-data", "write-data", "delete-data"] as const) {
      expect(capability(access, name).openThroughIdentityPolicies).toEqual([]);
    }
    // read-config has no deny of its own: a data user's identity policy may still read config.
    expect(capability(access, "read-config").openThroughIdentityPolicies).toEqual([S3_ACCESS]);
  });

  it("without k9's data denies, shows the administrator keeping the data (reference section 7)", () => {
    const plainK9 = {
      ...policy(),
      Statement: policy().Statement.filter((statement) => !String(statement.Sid).endsWith("ToOthers")),
    };
    const access = analyze(plainK9);
    expect(capability(access, "read-data").openThroughIdentityPolicies).toEqual([
      { kind: "arn", arn: ADMIN },
    ]);
  });

  it("flags foreign grants, and lists the ones a deny overrides with the statements involved", () => {
    const document = policy();
    const currentRole = `${SSO}/eu-west-1/AWSReservedSSO_S3Access_0123456789abcdef`;
    const foreign = [
      {
        Sid: "HandAddedRead",
        Effect: "Allow",
        Principal: { AWS: currentRole },
        Action: "s3:GetObject",
        Resource: `arn:aws:s3:::${BUCKET}/*`,
      },
      {
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: ["s3:GetObject", "s3:ListBucket"],
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/Auditor*` } },
      },
      {
        Sid: "Logging",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${BUCKET}/logs/*`,
      },
    ];
    const access = analyze({ ...document, Statement: [...document.Statement, ...foreign] });
    const readData = capability(access, "read-data");
    // The hand-named role is also the set's current role, so it holds all of read-data; that a
    // foreign statement grants it too makes the grant not Keyturn's alone.
    expect(readData.granted).toContainEqual(
      expect.objectContaining({
        principal: { kind: "arn", arn: currentRole },
        allActions: true,
        grantedBy: ["AllowRestrictedReadData", "HandAddedRead"],
        owned: false,
      }),
    );
    expect(readData.granted).toContainEqual(
      expect.objectContaining({ principal: S3_ACCESS, grantedBy: ["AllowRestrictedReadData"], owned: true }),
    );
    const index = document.Statement.length + 1;
    expect(readData.shadowed).toContainEqual({
      principal: { kind: "pattern", pattern: `arn:aws:iam::${ACCOUNT}:role/Auditor*` },
      actions: ["s3:GetObject", "s3:ListBucket"],
      grantedBy: [`#${index}`],
      deniedBy: ["DenyEveryoneElse", "DenyReadDataToOthers"],
    });
    expect(access.unanalyzed).toEqual([
      { statement: "Logging", reason: "names only service, federated or canonical-user principals" },
    ]);
  });

  it("treats a bucket without a policy as granting nothing and refuses an unreadable one", () => {
    const access = analyze(null);
    expect(access.capabilities.every((entry) => entry.granted.length === 0)).toBe(true);
    expect(capability(access, "read-data").openThroughIdentityPolicies).toEqual([{ kind: "anyone" }]);
    expect(analyzeEffectiveAccess({ bucket: BUCKET, policy: "[]" })).toMatchObject({
      ok: false,
      error: { code: "INVALID_LIVE_POLICY" },
    });
  });

  it("reports an open Allow to anyone, and an account-wide grant, as such", () => {
    const document: JsonPolicy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Public",
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
        },
        {
          Sid: "Account",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: "s3:ListBucket",
          Resource: `arn:aws:s3:::${BUCKET}`,
        },
      ],
    };
    const readData = capability(analyze(document), "read-data");
    // `anyone` is probed as a principal of the bucket's account, so the account grant covers it too.
    expect(readData.granted).toEqual([
      expect.objectContaining({
        principal: { kind: "account", accountId: ACCOUNT },
        actions: ["s3:GetObject", "s3:ListBucket"],
        grantedBy: ["Account", "Public"],
        owned: false,
      }),
      expect.objectContaining({ principal: { kind: "anyone" }, actions: ["s3:GetObject", "s3:ListBucket"] }),
    ]);
  });
});
