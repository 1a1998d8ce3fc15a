import { randomUUID } from "node:crypto";
import { appendAudit } from "@keyturn/db";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApi,
  expectNoRowChanges,
  flowRules,
  itEnforcesAuth,
  problemOf,
  type TestApi,
} from "./test-support.js";

const database = useTestDatabase();
let api: TestApi;
let auditor: string;
let requestId: string;

type Event = {
  seq: string;
  id: string;
  action: string;
  requestId: string | null;
  hash: string;
  prevHash: string;
};

beforeAll(async () => {
  api = await createTestApi(database.url);
  auditor = await api.token(["audit:read"]);
  const admin = await api.token(["flows:admin"]);
  const writer = await api.token(["requests:write", "requests:on-behalf"], { owner: "ann@example.com" });
  await api.call("PUT", "/v1/flows/audited", { token: admin, body: flowRules() });
  const created = await api.call("POST", "/v1/requests", {
    token: writer,
    body: { flow: "audited", requesterEmail: "rita@example.com", reason: "why not" },
  });
  requestId = created.json<{ id: string }>().id;
  expect((await api.call("POST", `/v1/requests/${requestId}/approve`, { token: writer })).statusCode).toBe(
    200,
  );
});
afterAll(async () => {
  await api.close();
});

const get = (url: string, token = auditor) => api.call("GET", url, { token });

describe("audit: auth", () => {
  itEnforcesAuth(
    () => api,
    [
      { method: "GET", url: "/v1/audit/events", scopes: ["audit:read"] },
      { method: "GET", url: "/v1/audit/export", scopes: ["audit:read"] },
      { method: "GET", url: "/v1/audit/verify", scopes: ["audit:read"] },
    ],
  );
});

describe("GET /v1/audit/events", () => {
  it("lists events in chain order, filtered by request and action, paged by seq", async () => {
    const forRequest = await get(`/v1/audit/events?requestId=${requestId}`);
    expect(forRequest.statusCode).toBe(200);
    const items = forRequest.json<{ items: Event[]; next: string | null }>();
    expect(items.items.map((e) => e.action)).toEqual(["request.submitted", "request.approved"]);
    expect(items.next).toBeNull();

    const approvals = (await get("/v1/audit/events?action=request.approved")).json<{ items: Event[] }>();
    expect(approvals.items.every((e) => e.action === "request.approved")).toBe(true);

    const total = await api.prisma.auditEvent.count();
    const seen: Event[] = [];
    let after: string | null = null;
    do {
      const query: string = after === null ? "limit=2" : `limit=2&after=${after}`;
      const page = (await get(`/v1/audit/events?${query}`)).json<{ items: Event[]; next: string | null }>();
      seen.push(...page.items);
      after = page.next;
    } while (after !== null);
    expect(seen).toHaveLength(total);
    const seqs = seen.map((e) => BigInt(e.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.prevHash).toBe(seen[i - 1]?.hash);
    }
  });

  const bad: { name: string; query: string; path: string }[] = [
    { name: "a malformed request id", query: "requestId=abc", path: "querystring.requestId" },
    { name: "a non-numeric after", query: "after=ten", path: "querystring.after" },
    { name: "limit 0", query: "limit=0", path: "querystring.limit" },
    { name: "an action that is not one", query: "action=DROP TABLE", path: "querystring.action" },
  ];
  for (const { name, query, path } of bad) {
    it(`400 VALIDATION_FAILED for ${name}, nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await get(`/v1/audit/events?${query}`);
        expect(response.statusCode).toBe(400);
        expect(problemOf(response).errors?.map((e) => e.path)).toEqual([path]);
      });
    });
  }

  it("an unknown request id is an empty list, not an error", async () => {
    const response = await get(`/v1/audit/events?requestId=${randomUUID()}`);
    expect(response.json()).toEqual({ items: [], next: null });
  });
});

describe("GET /v1/audit/export", () => {
  it("streams one parseable NDJSON line per event, in chain order, across batches", async () => {
    // More than one export batch (500), so the paging inside the stream is exercised.
    // Appended the way every writer appends (hash-chained), in one transaction to keep it quick.
    await api.prisma.$transaction(
      async (tx) => {
        for (let i = 0; i < 520; i++) {
          await appendAudit(tx, {
            id: randomUUID(),
            at: api.clock.now(),
            actor: { type: "system", id: "test" },
            action: "test.filler",
            data: { i },
          });
        }
      },
      { timeout: 60_000 },
    );
    const total = await api.prisma.auditEvent.count();
    expect(total).toBeGreaterThan(500);

    const response = await get("/v1/audit/export");
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/x-ndjson/);
    expect(response.body.endsWith("\n")).toBe(true);
    const lines = response.body.trimEnd().split("\n");
    expect(lines).toHaveLength(total);
    const events = lines.map((line) => JSON.parse(line) as Event);
    expect(new Set(events.map((e) => e.id)).size).toBe(total);
    for (let i = 1; i < events.length; i++) {
      expect(BigInt(events[i]?.seq ?? "0")).toBeGreaterThan(BigInt(events[i - 1]?.seq ?? "0"));
      expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
    }
    const listed = (await get(`/v1/audit/events?requestId=${requestId}`)).json<{ items: Event[] }>().items;
    expect(events.filter((e) => e.requestId === requestId)).toEqual(listed);
  });
});

describe("GET /v1/audit/verify", () => {
  it("reports an intact chain, then the exact event whose data was tampered with", async () => {
    const total = await api.prisma.auditEvent.count();
    const intact = await get("/v1/audit/verify");
    expect(intact.statusCode).toBe(200);
    const head = await api.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(intact.json()).toEqual({ ok: true, events: total, head: head.hash });

    const target = await api.prisma.auditEvent.findFirstOrThrow({
      where: { requestId, action: "request.approved" },
    });
    await api.prisma
      .$executeRaw`UPDATE "AuditEvent" SET data = jsonb_set(data::jsonb, '{selfApproval}', 'true')::jsonb WHERE seq = ${target.seq}`;

    const broken = await get("/v1/audit/verify");
    expect(broken.statusCode).toBe(200);
    expect(broken.json()).toEqual({
      ok: false,
      events: expect.any(Number),
      brokenAt: { seq: target.seq.toString(), id: target.id, reason: "hash_mismatch" },
    });
  });
});
