import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_SCOPES, createTestApi, flowRules, problemOf, type TestApi } from "./test-support.js";

const database = useTestDatabase();
let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await createTestApi(database.url, { rateLimitPerMinute: 40 });
  admin = await api.token(ALL_SCOPES, { owner: "ann@example.com" });
});
afterAll(async () => {
  await api.close();
});

const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

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
