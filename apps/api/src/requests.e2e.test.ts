import { randomUUID } from "node:crypto";
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
let writer: string;
let reader: string;

type View = {
  id: string;
  state: string;
  createdAt: string;
  requester: { email: string };
  flow: { name: string };
};

beforeAll(async () => {
  api = await createTestApi(database.url);
  writer = await api.token(["requests:write"], { owner: "ann@example.com", name: "ann" });
  reader = await api.token(["requests:read"]);
  const admin = await api.token(["flows:admin"]);
  for (const [name, rules] of [
    ["s3-prod", flowRules()],
    [
      "two-targets",
      flowRules({
        targets: [
          { accountId: "111122223333", permissionSetName: "S3Access" },
          { accountId: "444455556666", permissionSetName: "ReadOnly" },
        ],
        reason: { required: false },
        ticket: { required: true, pattern: "OPS-\\d+" },
      }),
    ],
    ["auto", flowRules({ autoApprove: true, approvers: [] })],
  ] as const) {
    const put = await api.call("PUT", `/v1/flows/${name}`, { token: admin, body: rules });
    expect(put.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await api.close();
});

const create = (body: Record<string, unknown>, token = writer) =>
  api.call("POST", "/v1/requests", { token, body });

describe("requests: auth", () => {
  itEnforcesAuth(
    () => api,
    [
      {
        method: "POST",
        url: "/v1/requests",
        scopes: ["requests:write"],
        body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "x" },
      },
      { method: "GET", url: "/v1/requests", scopes: ["requests:read"] },
      { method: "GET", url: `/v1/requests/${randomUUID()}`, scopes: ["requests:read"] },
    ],
  );
});

describe("POST /v1/requests", () => {
  it("201 with the request view, on behalf of the requester, audited as the token", async () => {
    const before = await api.prisma.auditEvent.count({ where: { action: "request.submitted" } });
    const response = await create({
      flow: "s3-prod",
      requesterEmail: "Rita@Example.com",
      durationSeconds: 1800,
      reason: "INC-42 restore a bucket",
    });
    expect(response.statusCode).toBe(201);
    const view = response.json();
    expect(view).toMatchObject({
      flow: { name: "s3-prod", version: 1 },
      requester: { email: "rita@example.com" },
      target: { accountId: "111122223333", permissionSetName: "S3Access" },
      reason: "INC-42 restore a bucket",
      ticket: null,
      durationSeconds: 1800,
      state: "pending",
      source: "api",
      breakGlass: false,
      reviews: [],
      decidedAt: null,
      lease: null,
      extensionCount: 0,
    });
    expect(view.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Response schemas strip what they do not declare: nothing internal leaks out.
    expect(Object.keys(view)).not.toContain("version");
    expect(Object.keys(view)).not.toContain("requesterId");

    const events = await api.prisma.auditEvent.findMany({ where: { requestId: view.id } });
    expect(events.map((e) => e.action)).toEqual(["request.submitted"]);
    expect(events[0]?.actorType).toBe("token");
    expect(await api.prisma.auditEvent.count({ where: { action: "request.submitted" } })).toBe(before + 1);
  });

  it("auto-approved flows come back approved with a lease", async () => {
    const response = await create({ flow: "auto", requesterEmail: "rita@example.com", reason: "deploy" });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ state: "approved", lease: { releasedAt: null } });
  });

  it("takes the chosen target on a multi-target flow", async () => {
    const response = await create({
      flow: "two-targets",
      requesterEmail: "rita@example.com",
      target: { accountId: "444455556666", permissionSetName: "ReadOnly" },
      ticket: "OPS-7",
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ target: { accountId: "444455556666" }, ticket: "OPS-7" });
  });

  const rejections: {
    name: string;
    body: Record<string, unknown>;
    code: string;
    detail?: RegExp;
    path?: string;
  }[] = [
    {
      name: "an unknown flow",
      body: { flow: "no-such-flow", requesterEmail: "rita@example.com", reason: "x" },
      code: "FLOW_NOT_FOUND",
      detail: /no flow named 'no-such-flow'/,
    },
    {
      name: "a duration above the flow's max",
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "x", durationSeconds: 7201 },
      code: "DURATION_OUT_OF_RANGE",
      detail: /between 1 and 7200 seconds, got 7201/,
    },
    {
      name: "a missing reason",
      body: { flow: "s3-prod", requesterEmail: "rita@example.com" },
      code: "REASON_REQUIRED",
      detail: /requires a reason/,
    },
    {
      name: "a blank reason",
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "   " },
      code: "REASON_REQUIRED",
    },
    {
      name: "no target on a multi-target flow",
      body: { flow: "two-targets", requesterEmail: "rita@example.com", ticket: "OPS-1" },
      code: "TARGET_REQUIRED",
    },
    {
      name: "a target the flow does not have",
      body: {
        flow: "two-targets",
        requesterEmail: "rita@example.com",
        ticket: "OPS-1",
        target: { accountId: "999999999999", permissionSetName: "Admin" },
      },
      code: "UNKNOWN_TARGET",
    },
    {
      name: "a ticket not matching the flow's pattern",
      body: {
        flow: "two-targets",
        requesterEmail: "rita@example.com",
        ticket: "JIRA-1",
        target: { accountId: "111122223333", permissionSetName: "S3Access" },
      },
      code: "TICKET_MISMATCH",
    },
    {
      name: "a requester that is not an email",
      body: { flow: "s3-prod", requesterEmail: "rita", reason: "x" },
      code: "VALIDATION_FAILED",
      path: "body.requesterEmail",
    },
    {
      name: "a duration given as a string",
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "x", durationSeconds: "3600" },
      code: "VALIDATION_FAILED",
      path: "body.durationSeconds",
    },
    {
      name: "a zero duration",
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "x", durationSeconds: 0 },
      code: "VALIDATION_FAILED",
      path: "body.durationSeconds",
    },
    {
      name: "a missing flow",
      body: { requesterEmail: "rita@example.com", reason: "x" },
      code: "VALIDATION_FAILED",
      path: "body.flow",
    },
    {
      name: "an unknown field",
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "x", status: "approved" },
      code: "VALIDATION_FAILED",
      path: "body",
    },
  ];
  for (const rejection of rejections) {
    it(`400 ${rejection.code} for ${rejection.name}, nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await create(rejection.body);
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe(rejection.code);
        if (rejection.detail !== undefined) {
          expect(problem.detail).toMatch(rejection.detail);
        }
        if (rejection.path !== undefined) {
          expect(problem.errors?.map((e) => e.path)).toContain(rejection.path);
          expect(problem.detail).toContain(rejection.path);
        }
      });
    });
  }
});

describe("GET /v1/requests/:id", () => {
  it("returns the request", async () => {
    const created = await create({ flow: "s3-prod", requesterEmail: "rita@example.com", reason: "look" });
    const response = await api.call("GET", `/v1/requests/${created.json().id}`, { token: reader });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(created.json());
  });

  it("404 REQUEST_NOT_FOUND for an unknown id, 400 for a malformed one", async () => {
    const unknown = randomUUID();
    const missing = await api.call("GET", `/v1/requests/${unknown}`, { token: reader });
    expect(missing.statusCode).toBe(404);
    expect(problemOf(missing)).toMatchObject({ code: "REQUEST_NOT_FOUND", detail: `no request ${unknown}` });

    const malformed = await api.call("GET", "/v1/requests/not-a-uuid", { token: reader });
    expect(malformed.statusCode).toBe(400);
    expect(problemOf(malformed)).toMatchObject({
      code: "VALIDATION_FAILED",
      errors: [{ path: "params.id", message: "must be a UUID" }],
    });
  });
});

describe("GET /v1/requests", () => {
  let paged: View[] = [];

  beforeAll(async () => {
    const admin = await api.token(["flows:admin"]);
    await api.call("PUT", "/v1/flows/paging", { token: admin, body: flowRules() });
    for (let i = 0; i < 25; i++) {
      // A second apart, so createdAt alone orders them; the id breaks ties in general.
      api.clock.advance(1000);
      const response = await create({
        flow: "paging",
        requesterEmail: i % 5 === 0 ? "pat@example.com" : "quinn@example.com",
        reason: `request ${i}`,
      });
      expect(response.statusCode).toBe(201);
      paged.push(response.json());
    }
    paged = paged.reverse();
  });

  const list = (query: string, token = reader) => api.call("GET", `/v1/requests?${query}`, { token });

  it("pages through 25 requests 10 at a time, newest first, each exactly once", async () => {
    const seen: View[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const query: string = `flow=paging&limit=10${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const response = await list(query);
      expect(response.statusCode).toBe(200);
      const page = response.json<{ items: View[]; nextCursor: string | null }>();
      sizes.push(page.items.length);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(sizes).toEqual([10, 10, 5]);
    expect(new Set(seen.map((v) => v.id)).size).toBe(25);
    expect(seen.map((v) => v.id)).toEqual(paged.map((v) => v.id));
    const times = seen.map((v) => Date.parse(v.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("filters by flow, requester, state and creation time", async () => {
    const byRequester = (await list("flow=paging&requester=PAT@example.com&limit=200")).json<{
      items: View[];
    }>();
    expect(byRequester.items).toHaveLength(5);
    expect(byRequester.items.every((v) => v.requester.email === "pat@example.com")).toBe(true);

    const approved = (await list("state=approved&limit=200")).json<{ items: View[] }>();
    expect(approved.items.length).toBeGreaterThan(0);
    expect(approved.items.every((v) => v.state === "approved" && v.flow.name === "auto")).toBe(true);

    const either = (await list("state=approved,pending&limit=200")).json<{ items: View[] }>();
    expect(either.items.length).toBeGreaterThan(25);

    const all = (await list("flow=paging&limit=200")).json<{ items: View[] }>();
    expect(all.items).toHaveLength(25);
    const pivot = paged[10];
    const after = (
      await list(`flow=paging&limit=200&createdAfter=${encodeURIComponent(pivot?.createdAt ?? "")}`)
    ).json<{ items: View[] }>();
    expect(after.items.map((v) => v.id)).toEqual(paged.slice(0, 11).map((v) => v.id));
    const before = (
      await list(`flow=paging&limit=200&createdBefore=${encodeURIComponent(pivot?.createdAt ?? "")}`)
    ).json<{ items: View[] }>();
    expect(before.items.map((v) => v.id)).toEqual(paged.slice(11).map((v) => v.id));

    const none = (await list("flow=paging&state=denied")).json<{ items: View[]; nextCursor: null }>();
    expect(none).toEqual({ items: [], nextCursor: null });
  });

  const badQueries: { name: string; query: string; code: string; path: string }[] = [
    {
      name: "a cursor it did not issue",
      query: "cursor=bm90LWEtY3Vyc29y",
      code: "INVALID_CURSOR",
      path: "querystring.cursor",
    },
    { name: "a garbage cursor", query: "cursor=%%%", code: "INVALID_CURSOR", path: "querystring.cursor" },
    {
      name: "an unknown state",
      query: "state=pending,bogus",
      code: "VALIDATION_FAILED",
      path: "querystring.state.1",
    },
    { name: "limit 0", query: "limit=0", code: "VALIDATION_FAILED", path: "querystring.limit" },
    { name: "limit 201", query: "limit=201", code: "VALIDATION_FAILED", path: "querystring.limit" },
    {
      name: "a non-ISO date",
      query: "createdAfter=yesterday",
      code: "VALIDATION_FAILED",
      path: "querystring.createdAfter",
    },
    {
      name: "a requester that is not an email",
      query: "requester=pat",
      code: "VALIDATION_FAILED",
      path: "querystring.requester",
    },
    { name: "an unknown parameter", query: "status=pending", code: "VALIDATION_FAILED", path: "querystring" },
  ];
  for (const bad of badQueries) {
    it(`400 ${bad.code} for ${bad.name}, nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await list(bad.query);
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe(bad.code);
        expect(problem.errors?.map((e) => e.path)).toContain(bad.path);
      });
    });
  }
});
