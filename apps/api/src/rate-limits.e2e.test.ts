import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, problemOf, startCountingProxy, type TestApi } from "./test-support.js";

// Rate limits that hold: per client address before authentication (so bad tokens are limited too,
// before they cost a database lookup), per token id after it (so re-spelling the header buys
// nothing), and X-Forwarded-For believed only from a configured proxy.

const database = useTestDatabase();
const apis: TestApi[] = [];
let proxy: Awaited<ReturnType<typeof startCountingProxy>>;

beforeAll(async () => {
  proxy = await startCountingProxy(database.url);
});
afterEach(async () => {
  for (const api of apis.splice(0)) {
    await api.close();
  }
});
afterAll(async () => {
  await proxy.close();
});

async function api(options: Parameters<typeof createTestApi>[1] = {}): Promise<TestApi> {
  const created = await createTestApi(proxy.url, options);
  apis.push(created);
  return created;
}

const unknownToken = (n: number) => `kt_${n.toString(16).padStart(12, "0")}_${"Q".repeat(43)}`;

describe("before authentication, per client address", () => {
  it("700 bad-token requests from one address: 401 up to the address's budget, then 429", async () => {
    const limited = await api({ rateLimitPerAddressPerMinute: 100 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 700; i++) {
      const response = await limited.call("GET", "/v1/requests", { token: unknownToken(i) });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode === 429) {
        expect(problemOf(response).code).toBe("RATE_LIMITED");
        expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 100, 429: 600 });
    // Another address is not affected.
    const elsewhere = await limited.app.inject({
      method: "GET",
      url: "/v1/requests",
      remoteAddress: "192.0.2.7",
      headers: { authorization: `Bearer ${unknownToken(9999)}` },
    });
    expect(elsewhere.statusCode).toBe(401);
  });

  it("a limited request costs no database round trip, and an unknown token costs one lookup, not one each", async () => {
    const limited = await api({ rateLimitPerAddressPerMinute: 16 });
    const token = unknownToken(424242);
    expect((await limited.call("GET", "/v1/requests", { token })).statusCode).toBe(401);
    const afterFirst = proxy.bytesToDatabase();
    for (let i = 0; i < 15; i++) {
      expect((await limited.call("GET", "/v1/requests", { token })).statusCode).toBe(401);
    }
    expect(proxy.bytesToDatabase()).toBe(afterFirst);
    for (let i = 0; i < 50; i++) {
      expect((await limited.call("GET", "/v1/requests", { token: unknownToken(i) })).statusCode).toBe(429);
    }
    expect(proxy.bytesToDatabase()).toBe(afterFirst);
  });

  it("X-Forwarded-For is ignored unless the API is told to trust the proxy that sends it", async () => {
    const direct = await api({ rateLimitPerAddressPerMinute: 5 });
    const spoofed = (n: number) =>
      direct.app.inject({
        method: "GET",
        url: "/v1/requests",
        headers: { authorization: `Bearer ${unknownToken(n)}`, "x-forwarded-for": `203.0.113.${n}` },
      });
    // Sent together: exactly the budget's worth passes, whatever each claims to come from.
    const plain = await Promise.all(Array.from({ length: 8 }, (_, n) => spoofed(n)));
    expect(plain.map((r) => r.statusCode).sort()).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);

    // Behind a trusted proxy (the socket's 127.0.0.1), the address the proxy saw is the client's,
    // and what a client prepends to the header changes nothing.
    const proxied = await api({ rateLimitPerAddressPerMinute: 5, trustedProxies: ["127.0.0.1"] });
    const via = (forwardedFor: string, n: number) =>
      proxied.app.inject({
        method: "GET",
        url: "/v1/requests",
        headers: { authorization: `Bearer ${unknownToken(n)}`, "x-forwarded-for": forwardedFor },
      });
    for (let n = 0; n < 5; n++) {
      expect((await via("198.51.100.1", n)).statusCode).toBe(401);
    }
    expect((await via("198.51.100.1", 5)).statusCode).toBe(429);
    expect((await via("10.9.9.9, 198.51.100.1", 6)).statusCode).toBe(429);
    expect((await via("198.51.100.2", 7)).statusCode).toBe(401);
  });
});

describe("after authentication, per token id", () => {
  it("every spelling of the Authorization header draws on the same budget", async () => {
    const limited = await api({ rateLimitPerMinute: 9 });
    const token = await limited.token(["requests:read"]);
    const spellings = [`Bearer ${token}`, `bEaReR   ${token}`, `BEARER ${token}  `];
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await limited.app.inject({
        method: "GET",
        url: "/v1/requests",
        headers: { authorization: spellings[i % spellings.length] as string },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([...Array(9).fill(200), 429, 429, 429]);
    // Another token is not affected.
    const other = await limited.token(["requests:read"], { owner: "other@example.com" });
    expect((await limited.call("GET", "/v1/requests", { token: other })).statusCode).toBe(200);
  });

  it("a token without the route's scope spends its budget too", async () => {
    const limited = await api({ rateLimitPerMinute: 3 });
    const token = await limited.token(["audit:read"]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await limited.call("GET", "/v1/requests", { token })).statusCode);
    }
    expect(statuses).toEqual([403, 403, 403, 429]);
  });
});
