import { randomUUID } from "node:crypto";
import { createProducer, createRedisConnection, type Producer } from "@keyturn/queue";
import { useTestDatabase } from "@keyturn/testkit/database";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./test-support.js";

// bull-board at /admin/queues over real HTTP (a browser's Basic auth, not inject), on the real
// Redis under a prefix of this file's own, with one job waiting so the queue has something to show.

const database = useTestDatabase();
const prefix = `kt-dashboard-${randomUUID().slice(0, 8)}`;
const connection = createRedisConnection("redis://127.0.0.1:6379", "producer");
let api: TestApi;
let base: string;
let producer: Producer;
let operator: string; // queues:read: may look
let admin: string; // queues:write: may also act
let reader: string; // requests:read: no admin scope

beforeAll(async () => {
  api = await createTestApi(database.url, { queues: { connection, prefix } });
  base = await api.app.listen({ host: "127.0.0.1", port: 0 });
  producer = createProducer({ connection, prefix });
  const now = new Date();
  await producer.enqueue(
    "sweep.leases",
    {},
    { jobId: "sweep.leases-dashboard", now, delayUntil: new Date(now.getTime() + 3600_000) },
  );
  operator = await api.token(["queues:read"], { owner: "olga@example.com" });
  admin = await api.token(["queues:write"], { owner: "ann@example.com" });
  reader = await api.token(["requests:read"], { owner: "rita@example.com" });
});

afterAll(async () => {
  await producer?.close();
  await api?.close();
  const queue = new Queue("keyturn", { connection, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
});

const basic = (token: string) => `Basic ${Buffer.from(`keyturn:${token}`).toString("base64")}`;

function get(path: string, authorization?: string): Promise<Response> {
  return fetch(`${base}${path}`, { headers: authorization === undefined ? {} : { authorization } });
}

type QueuesBody = {
  queues: { name: string; counts: Record<string, number>; readOnlyMode: boolean; isPaused: boolean }[];
};

describe("the queue dashboard at /admin/queues", () => {
  it("asks a browser for credentials: 401 with a Basic challenge and no token", async () => {
    const response = await get("/admin/queues");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm="keyturn"/);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("answers 401 for a token it does not know, a revoked one, or garbage", async () => {
    const revoked = await api.revokedToken(["tokens:admin"]);
    for (const authorization of [
      basic(`kt_000000000000_${"A".repeat(43)}`),
      basic(revoked),
      "Basic !!!",
      basic("short"),
    ]) {
      const response = await get("/admin/queues/api/queues", authorization);
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm="keyturn"/);
    }
  });

  it("answers 403 naming the scopes for a valid token without an admin scope", async () => {
    const response = await get("/admin/queues", basic(reader));
    expect(response.status).toBe(403);
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem.code).toBe("INSUFFICIENT_SCOPE");
    expect(problem.detail).toContain("queues:read");
  });

  it("serves the dashboard page to an admin", async () => {
    const response = await get("/admin/queues", basic(operator));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain("<title>Keyturn queues</title>");
    expect(html).toContain('<base href="/admin/queues/"');
    // Its scripts are behind the same door (a browser resends the Basic credentials for them).
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await get(`/admin/queues/${script}`, basic(operator))).status).toBe(200);
    expect((await get(`/admin/queues/${script}`)).status).toBe(401);
  });

  it("lists Keyturn's queues with their jobs, read-only for a token that may only look", async () => {
    const response = await get("/admin/queues/api/queues", basic(operator));
    expect(response.status).toBe(200);
    const body = (await response.json()) as QueuesBody;
    expect(body.queues.map((q) => q.name)).toEqual(["keyturn"]);
    expect(body.queues[0]?.counts.delayed).toBe(1);
    expect(body.queues[0]?.readOnlyMode).toBe(true);

    const asAdmin = (await (await get("/admin/queues/api/queues", `Bearer ${admin}`)).json()) as QueuesBody;
    expect(asAdmin.queues[0]?.readOnlyMode).toBe(false);
  });

  it("refuses the dashboard's actions to a token that may only look, and lets queues:write act", async () => {
    const pause = (authorization: string) =>
      fetch(`${base}/admin/queues/api/queues/keyturn/pause`, { method: "PUT", headers: { authorization } });
    const refused = await pause(basic(operator));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toContain("queues:write");
    const queue = new Queue("keyturn", { connection, prefix });
    try {
      expect(await queue.isPaused()).toBe(false);
      expect((await pause(basic(admin))).status).toBe(200);
      expect(await queue.isPaused()).toBe(true);
      await queue.resume();
    } finally {
      await queue.close();
    }
  });

  it("audits every action before it runs: who paused or cleaned which queue", async () => {
    const adminRow = await api.prisma.apiToken.findFirstOrThrow({ where: { owner: "ann@example.com" } });
    const act = (path: string) =>
      fetch(`${base}/admin/queues/api/queues/keyturn/${path}`, {
        method: "PUT",
        headers: { authorization: basic(admin) },
      });
    const queue = new Queue("keyturn", { connection, prefix });
    try {
      expect((await act("pause")).status).toBe(200);
      expect((await act("clean/completed")).status).toBe(200);
      expect((await act("resume")).status).toBe(200);
    } finally {
      await queue.close();
    }
    const events = await api.prisma.auditEvent.findMany({
      where: { action: { startsWith: "queue." } },
      orderBy: { seq: "asc" },
    });
    expect(events.slice(-3).map((e) => e.action)).toEqual(["queue.pause", "queue.clean", "queue.resume"]);
    expect(events.at(-2)).toMatchObject({
      actorType: "token",
      actorId: adminRow.id,
      data: { method: "PUT", params: { queueName: "keyturn", queueStatus: "completed" } },
    });
    // The chain still verifies with them in it.
    const auditor = await api.token(["audit:read"]);
    const verified = await api.call("GET", "/v1/audit/verify", { token: auditor });
    expect(verified.json()).toMatchObject({ ok: true });
  });

  it("keeps its routes out of the OpenAPI document", async () => {
    expect(api.app.printRoutes({ commonPrefix: false })).toContain("admin/queues");
    const doc = (await (await get("/docs/json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/admin"))).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });

  it("is not served, and says so, without Redis", async () => {
    const without = await createTestApi(database.url);
    try {
      const response = await without.call("GET", "/admin/queues", {
        headers: { authorization: basic(admin) },
      });
      expect(response.statusCode).toBe(404);
      expect(without.logs.join("\n")).toContain("queue dashboard not served");
    } finally {
      await without.close();
    }
  });
});

describe("while Redis is down", () => {
  // Nothing listens on port 1: Redis is simply unreachable, as when it is down.
  const down = createRedisConnection("redis://127.0.0.1:1", "producer");
  down.on("error", () => undefined);
  let broken: TestApi;
  let brokenBase: string;

  beforeAll(async () => {
    broken = await createTestApi(database.url, { queues: { connection: down, prefix } });
    brokenBase = await broken.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await broken?.close();
    down.disconnect();
  });

  it("the dashboard's API answers a 503 problem, never the Redis client's text", async () => {
    for (const [method, path] of [
      ["GET", "/admin/queues/api/queues"],
      ["PUT", "/admin/queues/api/queues/keyturn/pause"],
    ] as const) {
      const response = await fetch(`${brokenBase}${path}`, {
        method,
        headers: { authorization: basic(admin) },
      });
      expect(response.status, path).toBe(503);
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(response.headers.get("retry-after")).toBeDefined();
      const problem = (await response.json()) as { code: string; detail: string };
      expect(problem.code).toBe("UNAVAILABLE");
      expect(problem.detail).not.toMatch(/ECONNREFUSED|Connection is closed|stream/i);
    }
  });

  it("/readyz says 503 NOT_READY naming Redis, as the operator guide says", async () => {
    const response = await fetch(`${brokenBase}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: "NOT_READY", detail: "Redis is not answering" });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
