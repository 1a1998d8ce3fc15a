import { describe, expect, it } from "vitest";
import type { JsonPolicy } from "./canonical.js";
import { analyzeEffectiveAccess, type CapabilityAccess, type EffectiveAccess } from "./effective-access.js";
import { generateBucketPolicy } from "./generate.js";
import type { BucketSpec } from "./spec.js";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
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

  it("reports a public Allow as granted to anonymous callers, and an account principal as a delegation", () => {
    // IAM "Principal" > "All principals": for anonymous users "*" and {"AWS":"*"} are equivalent;
    // "AWS account principals": naming the account delegates to its identity policies.
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
          Sid: "AnyAws",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "s3:GetObjectVersion",
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
    const publicRead = ["s3:GetObject", "s3:GetObjectVersion"];
    expect(readData.granted).toEqual([
      expect.objectContaining({ principal: { kind: "account", accountId: ACCOUNT }, actions: publicRead }),
      expect.objectContaining({
        principal: { kind: "anonymous" },
        actions: publicRead,
        grantedBy: ["AnyAws", "Public"],
        owned: false,
      }),
      expect.objectContaining({ principal: { kind: "anyone" }, actions: publicRead }),
    ]);
    // ListBucket is granted to nobody by the policy alone: the account statement only delegates,
    // so the account's principals get it through their identity policies.
    expect(readData.openThroughIdentityPolicies).toEqual([
      { kind: "account", accountId: ACCOUNT },
      { kind: "anyone" },
    ]);
    expect(readData.undetermined).toEqual([]);
  });

  it("reports another account named in the policy as granted: its own identity policies decide the rest", () => {
    const document: JsonPolicy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Partner",
          Effect: "Allow",
          Principal: { AWS: OTHER_ACCOUNT },
          Action: ["s3:GetObject", "s3:ListBucket"],
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        },
      ],
    };
    const readData = capability(analyze(document), "read-data");
    expect(readData.granted).toEqual([
      expect.objectContaining({
        principal: { kind: "account", accountId: OTHER_ACCOUNT },
        actions: ["s3:GetObject", "s3:ListBucket"],
        grantedBy: ["Partner"],
      }),
    ]);
    expect(readData.openThroughIdentityPolicies).toEqual([{ kind: "anyone" }]);
  });

  it("follows a foreign NotPrincipal Deny that forgets the account or the session: the set is denied", () => {
    // IAM "NotPrincipal" > "NotPrincipal with Deny": only account + role + session exempt a session.
    const document = policy();
    const currentRole = `${SSO}/eu-west-1/AWSReservedSSO_S3Access_0123456789abcdef`;
    const withDeny = {
      ...document,
      Statement: [
        ...document.Statement,
        {
          Sid: "OnlyTheDataRole",
          Effect: "Deny",
          NotPrincipal: { AWS: [currentRole] },
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
        },
      ],
    };
    const readData = capability(analyze(withDeny), "read-data");
    const viaSet = readData.granted.find((grant) => grant.principal.kind === "permission-set");
    expect(viaSet?.actions).not.toContain("s3:GetObject");
    expect(readData.shadowed).toContainEqual(
      expect.objectContaining({
        principal: S3_ACCESS,
        actions: ["s3:GetObject"],
        deniedBy: ["OnlyTheDataRole"],
      }),
    );
  });

  it("reports a session principal named by a foreign statement as that session", () => {
    const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/Auditor/alice@example.com`;
    const document: JsonPolicy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AliceAudits",
          Effect: "Allow",
          Principal: { AWS: sessionArn },
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
        },
      ],
    };
    const readData = capability(analyze(document), "read-data");
    expect(readData.granted).toEqual([
      expect.objectContaining({
        principal: { kind: "session", arn: sessionArn },
        actions: ["s3:GetObject"],
        grantedBy: ["AliceAudits"],
      }),
    ]);
  });

  it("says undetermined, with the statement and why, where AWS's documentation is silent", () => {
    const document = policy();
    const withOpen = {
      ...document,
      Statement: [
        ...document.Statement,
        {
          Sid: "HomeOnly",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:GetObject",
          NotResource: `arn:aws:s3:::${BUCKET}/home/\${aws:username}/*`,
        },
      ],
    };
    const readData = capability(analyze(withOpen), "read-data");
    const viaSet = readData.granted.find((grant) => grant.principal.kind === "permission-set");
    // Never a confident answer for GetObject: the Deny hangs on a variable with no value.
    expect(viaSet?.actions).not.toContain("s3:GetObject");
    expect(readData.undetermined).toContainEqual({
      principal: S3_ACCESS,
      actions: ["s3:GetObject"],
      statements: [{ statement: "HomeOnly", reason: expect.stringContaining(`\${aws:username}`) }],
    });
    // An IfExists-under-ForAnyValue Allow to everyone leaves anonymous callers' reads open.
    const tagged: JsonPolicy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "TaggedReaders",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "s3:GetObjectVersion",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
          Condition: { "ForAnyValue:StringLikeIfExists": { "aws:PrincipalTag/team": "data*" } },
        },
      ],
    };
    const openRead = capability(analyze(tagged), "read-data");
    expect(openRead.undetermined).toContainEqual({
      principal: { kind: "anonymous" },
      actions: ["s3:GetObjectVersion"],
      statements: [
        {
          statement: "TaggedReaders",
          reason: expect.stringContaining("IfExists makes a missing key true, ForAnyValue makes it false"),
        },
      ],
    });
    expect(openRead.granted).toEqual([]);
  });

  it("reports Keyturn's own policy with nothing undetermined and nothing public", () => {
    const access = analyze(policy());
    for (const entry of access.capabilities) {
      expect(entry.undetermined).toEqual([]);
      expect(entry.granted.some((grant) => grant.principal.kind === "anonymous")).toBe(false);
    }
  });
});
