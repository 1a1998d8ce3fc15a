// The admin commands through the built CLI against the real API, which talks S3 to the testkit's
// AWS emulator: buckets list/plan/apply, the effective-access table (with an "undetermined" row),
// audit verify/export and tokens list/create/revoke.
import { type BucketPolicyStore, createBucketPolicyStore } from "@keyturn/aws";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { ADMIN_KEY, allowAll, keyturnCaller } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "./testing/test-support.js";

const ACCOUNT = "111122223333";
const BUCKET = "cli-data";
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const KEYTURN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const KEYTURN_KEY = "AKIAKEYTURNCLIEXAMPL";

const database = useTestDatabase();
let emulator: AwsEmulator;
let store: BucketPolicyStore;
let cli: CliHarness;

beforeAll(async () => {
  emulator = await startAwsEmulator({ seed: 5 });
  emulator.seed({
    accounts: [ACCOUNT],
    callers: [
      { accessKeyId: ADMIN_KEY, roleArn: ADMIN_ROLE, accountId: ACCOUNT, policies: [allowAll] },
      keyturnCaller(KEYTURN_KEY, KEYTURN_ROLE, [BUCKET]),
    ],
    buckets: [{ name: BUCKET, accountId: ACCOUNT, encryption: { sseAlgorithm: "aws:kms" } }],
  });
  store = createBucketPolicyStore({
    region: emulator.region,
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: KEYTURN_KEY, secretAccessKey: "x" },
    retry: { maxAttempts: 1 },
  });
  cli = await startCliHarness({
    databaseUrl: database.url,
    apiEnv: {
      AWS_REGION: emulator.region,
      AWS_ENDPOINT_URL_S3: emulator.endpoint,
      AWS_S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: KEYTURN_KEY,
      AWS_SECRET_ACCESS_KEY: "x",
      KEYTURN_ROLE_ARN: KEYTURN_ROLE,
    },
  });
  const protect = await fetch(`${cli.api.url}/v1/buckets/${BUCKET}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${cli.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      accountId: ACCOUNT,
      capabilities: {
        "administer-resource": [{ roleArn: ADMIN_ROLE }, { roleArn: KEYTURN_ROLE }],
        "read-config": [{ roleArn: ADMIN_ROLE }, { roleArn: KEYTURN_ROLE }],
        "read-data": [{ permissionSet: "S3Access" }],
        "write-data": [{ permissionSet: "S3Access" }],
      },
    }),
  });
  expect(protect.status).toBe(201);
});
afterAll(async () => {
  await cli?.close();
  store?.close();
  await emulator?.close();
});

describe("keyturn buckets", () => {
  it("list shows the protected bucket; plan shows the policy to add (exit 2), apply puts it, plan is then in sync (exit 0)", async () => {
    const listed = await cli.run(["buckets", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^NAME\\s+ACCOUNT\\s+LAST APPLIED\\s+DRIFT.*\\n${BUCKET}\\s+${ACCOUNT}\\s+-\\s+no`),
    );

    const plan = await cli.run(["buckets", "plan", BUCKET, "--exit-code"]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(
      new RegExp(`^bucket ${BUCKET}: [1-9]\\d* to add, 0 to change, 0 to remove, 0 unchanged`),
    );
    expect(plan.stdout).toContain("Keyturn has not applied a policy to this bucket yet");
    expect(await store.getPolicy(BUCKET)).toBeNull();

    const apply = await cli.run(["buckets", "apply", BUCKET]);
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/applied: PutBucketPolicy sent \(\d+ bytes, hash [0-9a-f]{12}\)/);
    expect(JSON.parse((await store.getPolicy(BUCKET)) ?? "{}").Statement.length).toBeGreaterThan(0);

    const again = await cli.run(["buckets", "plan", BUCKET, "--exit-code"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("in sync: applying would change nothing.");
    const reapplied = await cli.run(["buckets", "apply", BUCKET, "--json"]);
    expect(reapplied.code).toBe(0);
    expect(reapplied.json()).toMatchObject({ bucket: BUCKET, put: false });
  });

  it("an unknown bucket is the API's problem in one line", async () => {
    const result = await cli.run(["buckets", "plan", "not-protected"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "keyturn: BUCKET_NOT_FOUND: bucket 'not-protected' is not protected by Keyturn " +
        "(PUT /v1/buckets/not-protected first) (HTTP 404)\n",
    );
  });
});

describe("keyturn access", () => {
  it("prints who can touch the data as a table, including undetermined rows; --json is the report", async () => {
    const live = (await store.getPolicy(BUCKET)) ?? "{}";
    const document = JSON.parse(live);
    // A session has no aws:username: AWS's documentation does not decide this statement.
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
      const table = await cli.run(["access", BUCKET]);
      expect(table.stderr).toBe("");
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(
        new RegExp(`^bucket ${BUCKET} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`),
      );
      expect(lines[1]).toMatch(/^CAPABILITY\s+PRINCIPAL\s+WHO\s+UNTIL\s+STATUS\s+WHY$/);
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^read-data\\s+permission set S3Access \\(${ACCOUNT}\\)\\s+\\(nobody now\\)\\s+-\\s+granted`,
          ),
        ),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^read-data\\s+permission set S3Access \\(${ACCOUNT}\\)\\s+-\\s+-\\s+undetermined\\s+HomeOnly: .*"might"`,
          ),
        ),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^administer-resource\\s+${ADMIN_ROLE}\\s`)),
      );

      const json = await cli.run(["access", BUCKET, "--json"]);
      expect(json.code).toBe(0);
      const report = json.json<{
        bucket: string;
        capabilities: { capability: string; undetermined: unknown[] }[];
      }>();
      expect(report.bucket).toBe(BUCKET);
      expect(report.capabilities.find((c) => c.capability === "read-data")?.undetermined).toHaveLength(1);
    } finally {
      await store.putPolicy(BUCKET, live);
    }
  });
});

describe("keyturn audit", () => {
  it("verify passes over the chain the commands above wrote; export prints it as NDJSON, --since cuts by time", async () => {
    const verified = await cli.run(["audit", "verify"]);
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);
    const events = await cli.prisma.auditEvent.count();
    expect(events).toBeGreaterThan(1);
    expect(verified.stdout).toMatch(
      new RegExp(`^audit chain intact: ${events} events, head [0-9a-f]{64}\\n$`),
    );
    expect((await cli.run(["audit", "verify", "--json"])).json()).toMatchObject({ ok: true, events });

    const exported = await cli.run(["audit", "export"]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: string; at: string; action: string });
    expect(lines).toHaveLength(events);
    expect(lines.map((e) => e.action)).toContain("bucket.protected");

    const last = lines.at(-1)?.at ?? "";
    const since = await cli.run(["audit", "export", "--since", last]);
    const cut = since.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { at: string });
    expect(cut.length).toBeGreaterThanOrEqual(1);
    expect(cut.length).toBeLessThan(lines.length);
    expect(cut.every((e) => e.at >= last)).toBe(true);

    const bad = await cli.run(["audit", "export", "--since", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "keyturn: --since must be an ISO 8601 time, got 'yesterday' (see 'keyturn audit export --help')\n",
    );
  });
});

describe("keyturn tokens", () => {
  it("create prints the secret alone on stdout; it works; list shows it; revoke ends it with a one-line login hint", async () => {
    const created = await cli.run([
      "tokens",
      "create",
      "--name",
      "ci",
      "--service",
      "--owner",
      "ci-bot",
      "--scopes",
      "flows:admin",
    ]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trimEnd();
    expect(secret).toMatch(/^\S+$/);
    expect(created.stderr).toMatch(
      /^created token 'ci' \(.+…, id [0-9a-f-]{36}\) for ci-bot; it is shown once/,
    );

    const listed = await cli.run(["tokens", "list", "--json"]);
    const ci = listed
      .json<{ id: string; name: string; scopes: string[]; ownerKind: string }[]>()
      .find((t) => t.name === "ci");
    expect(ci).toMatchObject({ ownerKind: "service", scopes: ["flows:admin"] });
    const table = await cli.run(["tokens", "list"]);
    expect(table.stdout).toMatch(
      /\n[0-9a-f-]{36}\s+ci\s+ci-bot \(service\)\s+kt_\S+…\s+flows:admin\s+-\s+-\s+active\n/,
    );

    expect((await cli.run(["flows", "list"], { env: { KEYTURN_TOKEN: secret } })).code).toBe(0);

    const revoked = await cli.run(["tokens", "revoke", ci?.id ?? ""]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked token 'ci'/);
    const refused = await cli.run(["flows", "list"], { env: { KEYTURN_TOKEN: secret } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "keyturn: UNAUTHENTICATED: the API token is unknown, revoked or expired (HTTP 401); run 'keyturn login' to sign in again\n",
    );
    const all = await cli.run(["tokens", "list", "--all", "--json"]);
    expect(
      all.json<{ name: string; revokedAt: string | null }[]>().find((t) => t.name === "ci")?.revokedAt,
    ).not.toBeNull();
  });

  it("an expired token recorded in the config file says to run keyturn login before calling the API", async () => {
    const { token } = await cli.token(["flows:admin"], { expiresAt: new Date(Date.now() + 60_000) });
    const set = await cli.run(["config", "set", "--token-stdin"], { input: token });
    expect(set.code).toBe(0);
    // As `keyturn login` records a token's end: one in the past.
    const { updateConfigFile } = await import("./config-file.js");
    await updateConfigFile(cli.configDirectory, { tokenExpiresAt: "2020-01-01T00:00:00.000Z" });
    const result = await cli.run(["flows", "list"], { env: { KEYTURN_TOKEN: undefined } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "keyturn: your Keyturn token expired at 2020-01-01T00:00:00.000Z; run 'keyturn login' to sign in again\n",
    );
  });
});
