import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, problemOf, type TestApi } from "./test-support.js";

const database = useTestDatabase();
// No migrations applied: every query fails in a way the API does not expect.
const emptyDatabase = useTestDatabase({ empty: true });
let api: TestApi;
let broken: TestApi;
let down: TestApi;

beforeAll(async () => {
  api = await createTestApi(database.url);
  broken = await createTestApi(emptyDatabase.url);
  // Nothing listens on port 1: the database is simply unreachable.
  down = await createTestApi("postgresql://postgres@127.0.0.1:1/keyturn");
});
afterAll(async () => {
  await Promise.all([api.close(), broken.close(), down.close()]);
});

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const aToken = `kt_000000000000_${"A".repeat(43)}`;

describe("probes", () => {
  it("GET /healthz answers 200 without a token", async () => {
    const response = await api.call("GET", "/healthz");
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when PostgreSQL answers, 503 when it does not", async () => {
    // The probe gives the database 2 s; on a machine whose cores are busy elsewhere the very first
    // connection can take longer, and the probe then rightly says "not ready" until it is made.
    await expect
      .poll(async () => (await api.call("GET", "/readyz")).statusCode, { timeout: 60_000, interval: 200 })
      .toBe(200);
    const ready = await api.call("GET", "/readyz");
    expect(ready.json()).toEqual({ status: "ok" });

    const notReady = await down.call("GET", "/readyz");
    expect(notReady.statusCode).toBe(503);
    expect(problemOf(notReady)).toMatchObject({ code: "NOT_READY", detail: "the database is not answering" });
  });
});

describe("request ids", () => {
  it("each response carries x-request-id: the caller's when sane, a fresh uuid otherwise", async () => {
    const fresh = await api.call("GET", "/healthz");
    expect(fresh.headers["x-request-id"]).toMatch(uuid);

    const kept = await api.call("GET", "/healthz", { headers: { "x-request-id": "trace-abc.123" } });
    expect(kept.headers["x-request-id"]).toBe("trace-abc.123");

    const replaced = await api.call("GET", "/healthz", {
      headers: { "x-request-id": "bad id\u0007<script>" },
    });
    expect(replaced.headers["x-request-id"]).toMatch(uuid);

    const problem = await api.call("GET", "/v1/flows", { headers: { "x-request-id": "trace-401" } });
    expect(problem.headers["x-request-id"]).toBe("trace-401");
    expect(problemOf(problem).requestId).toBe("trace-401");
    expect(api.logs.some((line) => line.includes('"requestId":"trace-401"'))).toBe(true);
  });
});

describe("errors are problem+json", () => {
  it("404 NOT_FOUND for an unknown route, with or without /v1", async () => {
    for (const url of ["/nope", "/v1/nope", "/v1/requests/x/y/z"]) {
      const response = await api.call("GET", url);
      expect(response.statusCode).toBe(404);
      expect(problemOf(response)).toMatchObject({ code: "NOT_FOUND", detail: `no route GET ${url}` });
    }
  });

  it("400 MALFORMED_JSON, 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const token = await api.token(["requests:write"]);
    const post = (payload: string, contentType: string) =>
      api.app.inject({
        method: "POST",
        url: "/v1/requests",
        headers: { authorization: `Bearer ${token}`, "content-type": contentType },
        payload,
      });
    const malformed = await post('{"flow": ', "application/json");
    expect(malformed.statusCode).toBe(400);
    expect(problemOf(malformed).code).toBe("MALFORMED_JSON");

    const poisoned = await post('{"__proto__": {"admin": true}}', "application/json");
    expect(poisoned.statusCode).toBe(400);
    expect(problemOf(poisoned).code).toBe("MALFORMED_JSON");

    const empty = await post("", "application/json");
    expect(empty.statusCode).toBe(400);
    expect(problemOf(empty).code).toBe("MALFORMED_JSON");

    const large = await post(JSON.stringify({ reason: "x".repeat(70 * 1024) }), "application/json");
    expect(large.statusCode).toBe(413);
    expect(problemOf(large).code).toBe("PAYLOAD_TOO_LARGE");

    const text = await post("flow=s3", "text/plain");
    expect(text.statusCode).toBe(415);
    expect(problemOf(text).code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("500 INTERNAL hides the cause from the caller and logs it with the request id", async () => {
    const response = await broken.call("GET", "/v1/flows", {
      token: aToken,
      headers: { "x-request-id": "trace-500" },
    });
    expect(response.statusCode).toBe(500);
    const problem = problemOf(response);
    expect(problem).toMatchObject({ code: "INTERNAL", requestId: "trace-500" });
    expect(problem.detail).toBe("something went wrong on our side; quote request id trace-500");
    expect(response.body).not.toMatch(/ApiToken|relation|prisma|does not exist/i);
    const logged = broken.logs.find(
      (line) => line.includes('"requestId":"trace-500"') && line.includes('"level":50'),
    );
    expect(logged).toMatch(/ApiToken|does not exist/);
    expect(logged).not.toContain(aToken);
  });

  it("503 UNAVAILABLE with Retry-After when the database cannot be reached", async () => {
    const response = await down.call("GET", "/v1/flows", { token: aToken });
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBe("1");
    expect(problemOf(response).code).toBe("UNAVAILABLE");
    expect(response.body).not.toContain("127.0.0.1");
  });
});
