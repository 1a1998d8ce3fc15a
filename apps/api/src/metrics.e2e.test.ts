import { type BucketPolicyStore, createBucketPolicyStore } from "@keyturn/aws";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_SCOPES, createTestApi, flowRules, problemOf, type TestApi } from "./test-support.js";

const database = useTestDatabase();
let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await createTestApi(database.url, { rateLimitPerMinute: 40 });
  admin = await api.token([...ALL_SCOPES, "requests:on-behalf"], { owner: "ann@example.com" });
});
afterAll(async () => {
  await api.close();
});

const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

/** Every sample of a metric, by its label set as written. */
const samples = (text: string, metric: string) =>
  new Map(
    text
      .split("\n")
      .filter((l) => l.startsWith(`${metric}{`))
      .map((l) => [l.slice(metric.length, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]),
  );

describe("metrics and rate limits", () => {
  it("exposes requests by state and flow, active leases, approval time and HTTP series after a lifecycle", async () => {
    expect((await api.call("PUT", "/v1/flows/s3-prod", { token: admin, body: flowRules() })).statusCode).toBe(
      201,
    );
    const created = await api.call("POST", "/v1/requests", {
      token: admin,
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "INC-1" },
    });
    const pending = await api.call("POST", "/v1/requests", {
      token: admin,
      body: { flow: "s3-prod", requesterEmail: "rob@example.com", reason: "INC-2" },
    });
    expect([created.statusCode, pending.statusCode]).toEqual([201, 201]);
    const id = (created.json() as { id: string }).id;
    expect(
      (await api.call("POST", `/v1/requests/${id}/approve`, { token: admin, body: {} })).statusCode,
    ).toBe(200);

    const response = await api.call("GET", "/metrics");
    expect(response.statusCode).toBe(200);
    const text = response.body;
    expect(sample(text, 'keyturn_requests{state="approved",flow="s3-prod"}')).toBe(1);
    expect(sample(text, 'keyturn_requests{state="pending",flow="s3-prod"}')).toBe(1);
    expect(sample(text, "keyturn_active_leases")).toBe(1);
    expect(sample(text, 'keyturn_approval_time_seconds{quantile="0.5"}')).toBeGreaterThanOrEqual(0);
    expect(
      sample(
        text,
        'keyturn_api_http_requests_total{route="/v1/requests/:id/approve",method="POST",status="200"}',
      ),
    ).toBe(1);
  });

  it("limits each token to its rate and answers 429 as a problem with Retry-After", async () => {
    const reader = await api.token(["requests:read"], { owner: "olga@example.com" });
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) {
      statuses.push((await api.call("GET", "/v1/requests", { token: reader })).statusCode);
    }
    expect(statuses.slice(0, 40).every((s) => s === 200)).toBe(true);
    const limited = await api.call("GET", "/v1/requests", { token: reader });
    expect(limited.statusCode).toBe(429);
    expect(problemOf(limited)).toMatchObject({ code: "RATE_LIMITED" });
    expect(limited.headers["retry-after"]).toBeDefined();
    // Another caller is not affected.
    expect((await api.call("GET", "/v1/requests", { token: admin })).statusCode).toBe(200);
  });
});

describe("AWS call metrics", () => {
  const ACCOUNT = "111122223333";
  let emulator: AwsEmulator;
  let store: BucketPolicyStore | undefined;
  let s3api: TestApi;

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 5 });
    emulator.seed({
      accounts: [ACCOUNT],
      callers: [
        {
          accessKeyId: "AKIAKEYTURNMETRICS01",
          roleArn: `arn:aws:iam::${ACCOUNT}:role/Keyturn`,
          accountId: ACCOUNT,
          policies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }],
        },
      ],
      buckets: [{ name: "metrics-data", accountId: ACCOUNT, encryption: { sseAlgorithm: "aws:kms" } }],
    });
    // Wired as main.ts wires it: the store counts into the app's registry.
    s3api = await createTestApi(database.url, {
      bucketPolicies: (onCall) => {
        store = createBucketPolicyStore({
          region: emulator.region,
          endpoint: emulator.endpoint,
          credentials: { accessKeyId: "AKIAKEYTURNMETRICS01", secretAccessKey: "x" },
          retry: { maxAttempts: 3, baseMs: 1, capMs: 5 },
          onCall,
        });
        return store;
      },
    });
  });
  afterAll(async () => {
    await s3api?.close();
    store?.close();
    await emulator?.close();
  });

  it("counts every S3 attempt of a policy apply by operation and outcome, the retried one included", async () => {
    const token = await s3api.token(["flows:admin"]);
    const role = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
    const spec = {
      accountId: ACCOUNT,
      capabilities: {
        "administer-resource": [{ roleArn: role }],
        "read-config": [{ roleArn: role }],
        "read-data": [{ permissionSet: "S3Access" }],
      },
    };
    expect((await s3api.call("PUT", "/v1/buckets/metrics-data", { token, body: spec })).statusCode).toBe(201);
    emulator.faults.failNext({ operation: "PutBucketPolicy", code: "SlowDown" });
    const applied = await s3api.call("POST", "/v1/buckets/metrics-data/policy/apply", {
      token,
      body: { confirm: true },
    });
    expect(applied.statusCode, applied.body).toBe(200);

    const text = (await s3api.call("GET", "/metrics")).body;
    const calls = samples(text, "keyturn_aws_calls_total");
    expect(calls.get('{service="s3",operation="PutBucketPolicy",outcome="SlowDown"}')).toBe(1);
    expect(calls.get('{service="s3",operation="PutBucketPolicy",outcome="ok"}')).toBe(1);
    // The bucket had no policy yet: AWS's answer is counted under its own name.
    expect(
      calls.get('{service="s3",operation="GetBucketPolicy",outcome="NoSuchBucketPolicy"}'),
    ).toBeGreaterThanOrEqual(1);
    // One sample per call the emulator saw, no more and no fewer.
    const counted = [...calls.values()].reduce((sum, n) => sum + n, 0);
    expect(counted).toBe(emulator.callLog().filter((c) => c.service === "s3").length);
    expect(
      sample(text, 'keyturn_aws_call_duration_seconds_count{service="s3",operation="PutBucketPolicy"}'),
    ).toBe(2);
  });
});
