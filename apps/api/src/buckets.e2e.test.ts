import { type BucketPolicyStore, createBucketPolicyStore, createKeyturnIdentity } from "@keyturn/aws";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { ADMIN_KEY, allowAll, keyturnCaller, putDefaultEncryption } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApi,
  expectNoRowChanges,
  itEnforcesAuth,
  problemOf,
  type TestApi,
} from "./test-support.js";

const ACCOUNT = "111122223333";
const BUCKET = "api-data";
const MISSING_IN_S3 = "api-missing";
const FORBIDDEN = "api-forbidden";
const PLAIN = "api-plain";
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const KEYTURN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;

const spec = (overrides: Record<string, unknown> = {}) => ({
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN_ROLE }, { roleArn: KEYTURN_ROLE }],
    "read-config": [{ roleArn: ADMIN_ROLE }, { roleArn: KEYTURN_ROLE }],
    "read-data": [{ permissionSet: "S3Access" }],
    "write-data": [{ permissionSet: "S3Access" }],
  },
  ...overrides,
});

const database = useTestDatabase();
let emulator: AwsEmulator;
let store: BucketPolicyStore;
let api: TestApi; // no S3 client: the bucket routes that need S3 answer 503
let s3api: TestApi;
let keyturn: ReturnType<typeof createKeyturnIdentity>;
let admin: string;
let reader: string;
let auditor: string;

beforeAll(async () => {
  emulator = await startAwsEmulator({ seed: 3 });
  emulator.seed({
    accounts: [ACCOUNT],
    callers: [
      { accessKeyId: ADMIN_KEY, roleArn: ADMIN_ROLE, accountId: ACCOUNT, policies: [allowAll] },
      keyturnCaller("AKIAKEYTURNAPIEXAMPL", KEYTURN_ROLE, [BUCKET, MISSING_IN_S3, PLAIN]),
    ],
    buckets: [
      { name: BUCKET, accountId: ACCOUNT, encryption: { sseAlgorithm: "aws:kms" } },
      { name: FORBIDDEN, accountId: ACCOUNT },
      // SSE-S3, every new bucket's default since 2023.
      { name: PLAIN, accountId: ACCOUNT },
    ],
  });
  store = createBucketPolicyStore({
    region: emulator.region,
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: "AKIAKEYTURNAPIEXAMPL", secretAccessKey: "x" },
    retry: { maxAttempts: 1 },
  });
  api = await createTestApi(database.url);
  keyturn = createKeyturnIdentity({
    region: emulator.region,
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: "AKIAKEYTURNAPIEXAMPL", secretAccessKey: "x" },
    retry: { maxAttempts: 1 },
  });
  s3api = await createTestApi(database.url, { bucketPolicies: store, keyturn });
  admin = await api.token(["flows:admin"]);
  reader = await api.token(["requests:read"]);
  auditor = await api.token(["audit:read"]);
});
afterAll(async () => {
  await api.close();
  await s3api.close();
  store.close();
  keyturn.close();
  await emulator.close();
});

const auditCount = (action: string) => api.prisma.auditEvent.count({ where: { action } });
const puts = () => emulator.callLog().filter((call) => call.operation === "PutBucketPolicy").length;

describe("buckets: auth", () => {
  itEnforcesAuth(
    () => s3api,
    [
      { method: "PUT", url: "/v1/buckets/auth-check", scopes: ["flows:admin"], body: spec() },
      { method: "GET", url: "/v1/buckets", scopes: ["flows:admin", "requests:read", "audit:read"] },
      {
        method: "GET",
        url: "/v1/buckets/auth-check",
        scopes: ["flows:admin", "requests:read", "audit:read"],
      },
      { method: "GET", url: "/v1/buckets/auth-check/policy", scopes: ["flows:admin"] },
      { method: "GET", url: "/v1/buckets/auth-check/policy/generated", scopes: ["flows:admin"] },
      {
        method: "POST",
        url: "/v1/buckets/auth-check/policy/apply",
        scopes: ["flows:admin"],
        body: { confirm: true },
      },
      { method: "GET", url: "/v1/buckets/auth-check/access", scopes: ["requests:read", "audit:read"] },
    ],
  );
});

describe("PUT /v1/buckets/:name", () => {
  it("protects a bucket (201), is idempotent (200, nothing written) and records changes (200)", async () => {
    const created = await api.call("PUT", `/v1/buckets/${BUCKET}`, { token: admin, body: spec() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      created: true,
      changed: true,
      bucket: {
        name: BUCKET,
        accountId: ACCOUNT,
        lastAppliedHash: null,
        driftDetected: false,
        spec: {
          bucket: BUCKET,
          capabilities: { "read-data": [{ permissionSet: "S3Access", accountId: ACCOUNT }] },
        },
      },
    });
    expect(await auditCount("bucket.protected")).toBe(1);

    await expectNoRowChanges(api, async () => {
      const same = await api.call("PUT", `/v1/buckets/${BUCKET}`, { token: admin, body: spec() });
      expect(same.statusCode).toBe(200);
      expect(same.json()).toMatchObject({ created: false, changed: false });
    });

    const changed = await api.call("PUT", `/v1/buckets/${BUCKET}`, {
      token: admin,
      body: spec({
        capabilities: { ...spec().capabilities, "delete-data": [{ permissionSet: "S3Access" }] },
      }),
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ created: false, changed: true });
    expect(await auditCount("bucket.spec_updated")).toBe(1);

    const got = await api.call("GET", `/v1/buckets/${BUCKET}`, { token: reader });
    expect(got.statusCode).toBe(200);
    expect(got.json().spec.capabilities["delete-data"]).toEqual([
      { permissionSet: "S3Access", accountId: ACCOUNT },
    ]);
  });

  const roles = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ roleArn: `arn:aws:iam::${ACCOUNT}:role/team/reader-${i}` }));
  const rejections: { name: string; url?: string; body: unknown; code: string; path?: string }[] = [
    {
      name: "an unknown capability",
      body: spec({ capabilities: { "read-everything": [{ roleArn: ADMIN_ROLE }] } }),
      code: "INVALID_BUCKET_SPEC",
      path: "body.capabilities.read-everything",
    },
    {
      name: "a malformed role ARN",
      body: spec({ capabilities: { "read-data": [{ roleArn: "arn:aws:iam::1:role/x" }] } }),
      code: "INVALID_BUCKET_SPEC",
      path: "body.capabilities.read-data.0.roleArn",
    },
    {
      name: "a bad permission set name",
      body: spec({ capabilities: { "read-data": [{ permissionSet: "no spaces" }] } }),
      code: "INVALID_BUCKET_SPEC",
      path: "body.capabilities.read-data.0.permissionSet",
    },
    {
      name: "a spec naming nobody",
      body: spec({ capabilities: {} }),
      code: "INVALID_BUCKET_SPEC",
      path: "body.capabilities",
    },
    {
      name: "a policy over S3's 20 KB",
      body: spec({ capabilities: { "read-data": roles(150), "write-data": roles(150) } }),
      code: "POLICY_TOO_LARGE",
    },
    {
      name: "cut-offs, which Keyturn manages",
      body: { ...spec(), sessionCutoffs: [] },
      code: "VALIDATION_FAILED",
      path: "body",
    },
    {
      name: "a principal with both forms",
      body: spec({ capabilities: { "read-data": [{ roleArn: ADMIN_ROLE, permissionSet: "S3Access" }] } }),
      code: "VALIDATION_FAILED",
    },
    {
      name: "an invalid bucket name",
      url: "/v1/buckets/Not_A_Bucket",
      body: spec(),
      code: "VALIDATION_FAILED",
      path: "params.name",
    },
  ];
  for (const rejection of rejections) {
    it(`rejects ${rejection.name} with 400 ${rejection.code}, writing nothing`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await api.call("PUT", rejection.url ?? "/v1/buckets/rejected-bucket", {
          token: admin,
          body: rejection.body,
        });
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe(rejection.code);
        if (rejection.path !== undefined) {
          expect(problem.errors?.map((error) => error.path)).toContain(rejection.path);
        }
      });
    });
  }

  it("answers 404 for a bucket Keyturn does not protect", async () => {
    const response = await api.call("GET", "/v1/buckets/not-protected", { token: reader });
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe("BUCKET_NOT_FOUND");
  });
});

describe("GET /v1/buckets", () => {
  it("lists the protected buckets by name, with their state", async () => {
    const list = await api.call("GET", "/v1/buckets", { token: reader });
    expect(list.statusCode).toBe(200);
    const items = list.json<{ items: { name: string; driftDetected: boolean }[] }>().items;
    const names = items.map((b) => b.name);
    expect(names).toContain(BUCKET);
    expect(names).toEqual([...names].sort());
    expect(items.find((b) => b.name === BUCKET)).toMatchObject({
      driftDetected: false,
      spec: { bucket: BUCKET },
    });
  });
});

describe("the S3 routes without an S3 client", () => {
  it("answer 503 S3_NOT_CONFIGURED and write nothing", async () => {
    await expectNoRowChanges(api, async () => {
      for (const [method, url, token, body] of [
        ["GET", `/v1/buckets/${BUCKET}/policy`, admin, undefined],
        ["POST", `/v1/buckets/${BUCKET}/policy/apply`, admin, { confirm: true }],
        ["GET", `/v1/buckets/${BUCKET}/access`, reader, undefined],
      ] as const) {
        const response = await api.call(method, url, { token, ...(body === undefined ? {} : { body }) });
        expect(response.statusCode).toBe(503);
        expect(problemOf(response).code).toBe("S3_NOT_CONFIGURED");
      }
    });
  });
});

describe("GET /v1/buckets/:name/policy and POST .../apply", () => {
  it("shows every statement as added to a bucket without a policy", async () => {
    const response = await s3api.call("GET", `/v1/buckets/${BUCKET}/policy`, { token: admin });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      bucket: BUCKET,
      inSync: false,
      changesLive: true,
      live: null,
      drift: { detected: false, expectedHash: null },
    });
    expect(body.diff.added.map((entry: { sid: string }) => entry.sid)).toContain("DenyEveryoneElse");
    expect(body.diff.foreign).toEqual([]);
    expect(body.generated.bytes).toBeLessThanOrEqual(20480);
  });

  it("refuses to apply without confirm: true (400), sending nothing to S3 and writing nothing", async () => {
    const before = puts();
    await expectNoRowChanges(s3api, async () => {
      for (const body of [{}, { confirm: false }, { confirm: "yes" }, { confirm: true, extra: 1 }]) {
        const response = await s3api.call("POST", `/v1/buckets/${BUCKET}/policy/apply`, {
          token: admin,
          body,
        });
        expect(response.statusCode).toBe(400);
        expect(problemOf(response).code).toBe("VALIDATION_FAILED");
      }
    });
    expect(puts()).toBe(before);
  });

  it("applies, audited with the policy hash and the diff summary, then is in sync", async () => {
    const response = await s3api.call("POST", `/v1/buckets/${BUCKET}/policy/apply`, {
      token: admin,
      body: { confirm: true },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      bucket: BUCKET,
      put: true,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      diff: { removed: [], changed: [], foreign: [] },
    });
    expect(body.diff.added).toContain("AllowRestrictedReadData");
    const [event] = await s3api.prisma.auditEvent.findMany({ where: { action: "bucket_policy.applied" } });
    expect(event).toMatchObject({
      actorType: "token",
      data: { bucket: BUCKET, hash: body.hash, put: true, reason: "api", diff: { added: body.diff.added } },
    });

    const view = (await s3api.call("GET", `/v1/buckets/${BUCKET}/policy`, { token: admin })).json();
    expect(view).toMatchObject({
      inSync: true,
      changesLive: false,
      drift: { detected: false, expectedHash: body.hash, liveHash: body.hash },
    });
    expect(view.live).toEqual(view.generated.policy);

    await expectNoRowChanges(s3api, async () => {
      const again = await s3api.call("POST", `/v1/buckets/${BUCKET}/policy/apply`, {
        token: admin,
        body: { confirm: true },
      });
      expect(again.json()).toMatchObject({ put: false, hash: body.hash });
    });
  });

  it("lists a hand-added statement as foreign and as drift, keeps it, and drops it only when asked", async () => {
    const live = JSON.parse((await store.getPolicy(BUCKET)) ?? "{}");
    const handAdded = {
      Sid: "HandAdded",
      Effect: "Allow",
      Principal: { AWS: ADMIN_ROLE },
      Action: "s3:GetBucketTagging",
      Resource: `arn:aws:s3:::${BUCKET}`,
    };
    await store.putPolicy(BUCKET, JSON.stringify({ ...live, Statement: [...live.Statement, handAdded] }));
    const view = (await s3api.call("GET", `/v1/buckets/${BUCKET}/policy`, { token: admin })).json();
    expect(view).toMatchObject({ inSync: true, changesLive: false, drift: { detected: true } });
    expect(view.diff.foreign).toEqual([
      { index: live.Statement.length, sid: "HandAdded", statement: handAdded },
    ]);

    const access = await s3api.call("GET", `/v1/buckets/${BUCKET}/access`, { token: auditor });
    expect(access.statusCode).toBe(200);
    const readConfig = access
      .json()
      .capabilities.find((c: { capability: string }) => c.capability === "read-config");
    expect(readConfig.grants).toContainEqual(
      expect.objectContaining({
        principal: { kind: "arn", arn: ADMIN_ROLE },
        extra: true,
        grantedBy: expect.arrayContaining(["HandAdded"]),
      }),
    );

    const kept = await s3api.call("POST", `/v1/buckets/${BUCKET}/policy/apply`, {
      token: admin,
      body: { confirm: true },
    });
    expect(kept.json()).toMatchObject({ put: false, diff: { foreign: ["HandAdded"], droppedForeign: [] } });
    const dropped = await s3api.call("POST", `/v1/buckets/${BUCKET}/policy/apply`, {
      token: admin,
      body: { confirm: true, dropForeign: true },
    });
    expect(dropped.json()).toMatchObject({ put: true, diff: { droppedForeign: ["HandAdded"] } });
    expect(
      JSON.parse((await store.getPolicy(BUCKET)) ?? "{}").Statement.map((s: { Sid: string }) => s.Sid),
    ).not.toContain("HandAdded");
  });

  it("answers 404 for an unprotected bucket and 502 S3_ERROR when S3 refuses (audited), 409 with what to do when S3 denies Keyturn", async () => {
    for (const name of [MISSING_IN_S3, FORBIDDEN]) {
      expect(
        (await s3api.call("PUT", `/v1/buckets/${name}`, { token: admin, body: spec() })).statusCode,
      ).toBe(201);
    }
    const missing = await s3api.call("POST", `/v1/buckets/${MISSING_IN_S3}/policy/apply`, {
      token: admin,
      body: { confirm: true },
    });
    expect(missing.statusCode).toBe(502);
    expect(problemOf(missing)).toMatchObject({
      code: "S3_ERROR",
      detail: expect.stringMatching(/NO_SUCH_BUCKET/),
    });
    // The failed apply is on the trail and on the bucket; nothing else changed.
    const [failed] = await s3api.prisma.auditEvent.findMany({
      where: { action: "bucket_policy.apply_failed" },
    });
    expect(failed?.data).toMatchObject({ bucket: MISSING_IN_S3, code: "AWS_NO_SUCH_BUCKET", reason: "api" });
    expect(
      (await s3api.prisma.protectedBucket.findUniqueOrThrow({ where: { name: MISSING_IN_S3 } }))
        .lastApplyError,
    ).toMatch(/AWS_NO_SUCH_BUCKET/);
    await expectNoRowChanges(s3api, async () => {
      const unknown = await s3api.call("POST", "/v1/buckets/never-protected/policy/apply", {
        token: admin,
        body: { confirm: true },
      });
      expect(unknown.statusCode).toBe(404);
      expect(problemOf(unknown).code).toBe("BUCKET_NOT_FOUND");
      // Onboarding a bucket whose policy does not let Keyturn in: what to do, not just "denied".
      const forbidden = await s3api.call("GET", `/v1/buckets/${FORBIDDEN}/policy`, { token: admin });
      expect(forbidden.statusCode).toBe(409);
      expect(problemOf(forbidden)).toMatchObject({
        code: "BUCKET_POLICY_ACCESS_DENIED",
        detail: expect.stringMatching(
          new RegExp(
            `GET /v1/buckets/${FORBIDDEN}/policy/generated.*put-bucket-policy --bucket ${FORBIDDEN}.*POST /v1/buckets/${FORBIDDEN}/policy/apply`,
          ),
        ),
      });
    });
  });
});

describe("Keyturn cannot lock itself out", () => {
  const without = (capability: "administer-resource" | "read-config") => {
    const base = spec();
    return spec({
      capabilities: { ...base.capabilities, [capability]: [{ roleArn: ADMIN_ROLE }] },
    });
  };

  it("refuses (400 LOCKOUT_SPEC) a spec leaving Keyturn's role out, naming it, writing nothing", async () => {
    for (const capability of ["administer-resource", "read-config"] as const) {
      await expectNoRowChanges(s3api, async () => {
        const response = await s3api.call("PUT", "/v1/buckets/lockout-data", {
          token: admin,
          body: without(capability),
        });
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe("LOCKOUT_SPEC");
        // STS GetCallerIdentity says who Keyturn is; the session ARN names the role.
        expect(problem.detail).toContain(KEYTURN_ROLE);
        expect(problem.detail).toContain("assumed-role/Keyturn/");
        expect(problem.errors?.map((error) => error.path)).toEqual([`body.capabilities.${capability}`]);
      });
    }
    expect(
      emulator.callLog().some((call) => call.service === "sts" && call.operation === "GetCallerIdentity"),
    ).toBe(true);
    expect(
      (await s3api.call("PUT", "/v1/buckets/lockout-data", { token: admin, body: spec() })).statusCode,
    ).toBe(201);
  });
});

describe("GET /v1/buckets/:name/policy/generated", () => {
  it("previews the policy Keyturn would apply without reading S3, even with no S3 client", async () => {
    const before = emulator.callLog().length;
    const response = await api.call("GET", `/v1/buckets/${BUCKET}/policy/generated`, { token: admin });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      bucket: BUCKET,
      sessionCutoffs: [],
      cutoffLayout: { listed: 0, roleWide: [] },
    });
    expect(body.policy.Statement.map((statement: { Sid: string }) => statement.Sid)).toContain(
      "DenyEveryoneElse",
    );
    expect(body.bytes).toBeLessThanOrEqual(20480);
    expect(body.sessionCutoffCapacity).toBeGreaterThan(200);
    expect(emulator.callLog().length).toBe(before);
    expect(
      (await api.call("GET", "/v1/buckets/not-protected/policy/generated", { token: admin })).statusCode,
    ).toBe(404);
  });
});

describe("GET /v1/buckets/:name/access", () => {
  it("reports per capability who can act, resolving the permission set to lease holders (none yet)", async () => {
    const response = await s3api.call("GET", `/v1/buckets/${BUCKET}/access`, { token: reader });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ bucket: BUCKET, policyPresent: true, sessionCutoffs: [] });
    const readData = body.capabilities.find((c: { capability: string }) => c.capability === "read-data");
    expect(readData.grants).toEqual([
      expect.objectContaining({
        principal: { kind: "permission-set", accountId: ACCOUNT, name: "S3Access" },
        allActions: true,
        extra: false,
        holders: [],
      }),
    ]);
    expect(readData.openThroughIdentityPolicies).toEqual([]);
    for (const capability of body.capabilities) {
      expect(capability.undetermined).toEqual([]);
    }
  });

  it("answers undetermined, with the statement and why, where AWS's documentation does not decide", async () => {
    const live = (await store.getPolicy(BUCKET)) ?? "{}";
    const document = JSON.parse(live);
    const homeOnly = {
      Sid: "HomeOnly",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:GetObject",
      NotResource: `arn:aws:s3:::${BUCKET}/home/\${aws:username}/*`,
    };
    await store.putPolicy(
      BUCKET,
      JSON.stringify({ ...document, Statement: [...document.Statement, homeOnly] }),
    );
    try {
      const body = (await s3api.call("GET", `/v1/buckets/${BUCKET}/access`, { token: reader })).json();
      const readData = body.capabilities.find((c: { capability: string }) => c.capability === "read-data");
      const set = { kind: "permission-set", accountId: ACCOUNT, name: "S3Access" };
      // A session has no aws:username: AWS says the statement "might" be invalid, so GetObject is
      // neither granted nor denied in the report.
      expect(readData.undetermined).toEqual([
        {
          principal: set,
          actions: ["s3:GetObject"],
          statements: [{ statement: "HomeOnly", reason: expect.stringContaining('"might"') }],
        },
      ]);
      expect(readData.grants).toEqual([
        expect.objectContaining({
          principal: set,
          allActions: false,
          actions: expect.not.arrayContaining(["s3:GetObject"]),
        }),
      ]);
    } finally {
      await store.putPolicy(BUCKET, live);
    }
  });
});

describe("POST .../apply on a bucket whose default encryption is not SSE-KMS", () => {
  it("answers 409 saying how to set the default, sends no policy, and applies once it is set", async () => {
    const key = `arn:aws:kms:${emulator.region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    expect(
      (await s3api.call("PUT", `/v1/buckets/${PLAIN}`, { token: admin, body: spec({ kmsKeyArn: key }) }))
        .statusCode,
    ).toBe(201);
    const before = puts();
    await expectNoRowChanges(s3api, async () => {
      const refused = await s3api.call("POST", `/v1/buckets/${PLAIN}/policy/apply`, {
        token: admin,
        body: { confirm: true },
      });
      expect(refused.statusCode).toBe(409);
      expect(problemOf(refused)).toMatchObject({
        code: "BUCKET_NOT_KMS_ENCRYPTED",
        detail: expect.stringContaining(`encrypts new objects with AES256 by default`),
      });
      expect(problemOf(refused).detail).toContain(`aws s3api put-bucket-encryption --bucket ${PLAIN}`);
      expect(problemOf(refused).detail).toContain(`"KMSMasterKeyID":"${key}"`);
    });
    expect(puts()).toBe(before);
    // SSE-KMS, but under another key than the one the spec pins: still refused.
    await setDefaultEncryption(PLAIN, "alias/other");
    const wrongKey = await s3api.call("POST", `/v1/buckets/${PLAIN}/policy/apply`, {
      token: admin,
      body: { confirm: true },
    });
    expect(problemOf(wrongKey).code).toBe("BUCKET_NOT_KMS_ENCRYPTED");
    await setDefaultEncryption(PLAIN, key);
    const applied = await s3api.call("POST", `/v1/buckets/${PLAIN}/policy/apply`, {
      token: admin,
      body: { confirm: true },
    });
    expect(applied.statusCode).toBe(200);
    expect(applied.json().diff.added).toEqual(
      expect.arrayContaining(["DenyUnexpectedKMSKey", "DenyKMSWithoutPinnedKey"]),
    );
    const bucket = (await s3api.call("GET", `/v1/buckets/${PLAIN}`, { token: admin })).json();
    expect(bucket.spec.kmsKeyArn).toBe(key);
  });
});

/** The bucket owner's administrator sets the default encryption, as the 409's command would. */
function setDefaultEncryption(bucket: string, keyId: string): Promise<void> {
  return putDefaultEncryption(emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" }, bucket, {
    sseAlgorithm: "aws:kms",
    kmsMasterKeyId: keyId,
  });
}
