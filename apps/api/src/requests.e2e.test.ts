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
  // Files for other people: an integration token (requests:on-behalf).
  writer = await api.token(["requests:on-behalf"], { service: true, name: "ticketing" });
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
        scopes: ["requests:write", "requests:on-behalf"],
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
      source: "integration",
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
    expect(events[0]).toMatchObject({ actorType: "token", actorLabel: "ticketing" });
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

// The list and the single view are one SQL statement (packages/db/src/request-queries.ts): what a
// hand-written join could get wrong, checked against what the API itself wrote.
describe("GET /v1/requests: the views a page is made of", () => {
  type FullView = View & {
    endedAt: string | null;
    reviews: {
      reviewer: { email: string };
      decision: string;
      comment: string | null;
      override: boolean;
      at: string;
    }[];
    lease: { startsAt: string; endsAt: string; releasedAt: string | null } | null;
  };
  type Page = { items: FullView[]; nextCursor: string | null };
  let ann: string;
  let ben: string;

  beforeAll(async () => {
    ann = await api.token(["requests:write"], { owner: "ann@example.com", name: "ann" });
    ben = await api.token(["requests:write"], { owner: "ben@example.com", name: "ben" });
    const admin = await api.token(["flows:admin"]);
    for (const [name, rules] of [
      ["ties", flowRules()],
      ["two-approvals", flowRules({ approvalsRequired: 2 })],
      ["one-approval", flowRules()],
      ["combo", flowRules()],
      ["combo-other", flowRules()],
    ] as const) {
      expect((await api.call("PUT", `/v1/flows/${name}`, { token: admin, body: rules })).statusCode).toBe(
        201,
      );
    }
  });

  const list = async (query: string) => {
    const response = await api.call("GET", `/v1/requests?${query}`, { token: reader });
    expect(response.statusCode).toBe(200);
    return response.json<Page>();
  };
  const get = async (id: string) => {
    const response = await api.call("GET", `/v1/requests/${id}`, { token: reader });
    expect(response.statusCode).toBe(200);
    return response.json<FullView>();
  };
  /** Every page of a query, following nextCursor. */
  const pages = async (query: string): Promise<FullView[][]> => {
    const all: FullView[][] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(
        `${query}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      all.push(page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && all.length < 50);
    return all;
  };
  const submit = async (flow: string, requesterEmail: string): Promise<FullView> => {
    const response = await create({ flow, requesterEmail, reason: "INC-7" });
    expect(response.statusCode).toBe(201);
    return response.json<FullView>();
  };
  const act = async (token: string, id: string, action: string, body: Record<string, unknown> = {}) => {
    const response = await api.call("POST", `/v1/requests/${id}/${action}`, { token, body });
    expect(response.statusCode).toBe(200);
    return response.json<FullView>();
  };

  it("pages requests created in the same millisecond across a cursor boundary, none lost or repeated", async () => {
    api.clock.advance(1000);
    const older = await submit("ties", "tia@example.com");
    api.clock.advance(1000);
    const tied = [
      await submit("ties", "tia@example.com"),
      await submit("ties", "uma@example.com"),
      await submit("ties", "tia@example.com"),
    ];
    api.clock.advance(1000);
    const newer = await submit("ties", "uma@example.com");
    expect(new Set(tied.map((v) => v.createdAt)).size).toBe(1);
    // Newest first; among equal times, the greater id first (uuid order is the order of its hex).
    const expected = [newer, ...[...tied].sort((a, b) => (a.id < b.id ? 1 : -1)), older].map((v) => v.id);

    for (const limit of [1, 2, 3]) {
      const all = await pages(`flow=ties&limit=${limit}`);
      expect(all.map((page) => page.length)).toEqual(
        Array.from({ length: Math.ceil(5 / limit) }, (_, i) => Math.min(limit, 5 - i * limit)),
      );
      expect(all.flat().map((v) => v.id)).toEqual(expected);
    }
    const tiedOnly = await pages("flow=ties&requester=tia@example.com&limit=1");
    expect(tiedOnly.flat().map((v) => v.id)).toEqual(
      expected.filter((id) =>
        [older, ...tied].some((v) => v.id === id && v.requester.email === "tia@example.com"),
      ),
    );
  });

  it("lists reviews oldest first with each reviewer's email, and the lease only once there is one", async () => {
    const pending = await submit("two-approvals", "rita@example.com");
    api.clock.advance(1000);
    const approved = await submit("two-approvals", "rita@example.com");
    const start = Date.parse(approved.createdAt);
    // Ann reviews first but at a later time than Ben: the order is by time, not by insertion.
    api.clock.advance(120_000);
    await act(ann, approved.id, "approve", { comment: "later in time" });
    api.clock.advance(-60_000);
    const afterBen = await act(ben, approved.id, "approve");
    api.clock.advance(60_000);
    const revokedId = (await submit("one-approval", "rita@example.com")).id;
    await act(ann, revokedId, "approve");
    api.clock.advance(1000);
    const revoked = await act(ben, revokedId, "revoke", { reason: "done" });

    expect(afterBen.state).toBe("approved");
    const page = await list("flow=two-approvals&limit=10");
    expect(page.items.map((v) => v.id)).toEqual([approved.id, pending.id]);
    const [listedApproved, listedPending] = page.items;
    expect(listedApproved?.reviews).toEqual([
      {
        reviewer: { email: "ben@example.com" },
        decision: "approve",
        comment: null,
        override: false,
        at: new Date(start + 60_000).toISOString(),
      },
      {
        reviewer: { email: "ann@example.com" },
        decision: "approve",
        comment: "later in time",
        override: false,
        at: new Date(start + 120_000).toISOString(),
      },
    ]);
    const lease = await api.prisma.lease.findUniqueOrThrow({ where: { requestId: approved.id } });
    expect(lease.startsAt.getTime()).toBe(start + 60_000);
    expect(listedApproved?.lease).toEqual({
      startsAt: lease.startsAt.toISOString(),
      endsAt: lease.endsAt.toISOString(),
      releasedAt: null,
    });
    expect(listedPending).toMatchObject({ state: "pending", reviews: [], lease: null });

    const [listedRevoked] = (await list("flow=one-approval")).items;
    expect(listedRevoked).toMatchObject({
      id: revokedId,
      state: "revoked",
      reviews: [{ reviewer: { email: "ann@example.com" }, decision: "approve" }],
      lease: { releasedAt: revoked.endedAt },
    });
    const released = await api.prisma.lease.findUniqueOrThrow({ where: { requestId: revokedId } });
    expect(listedRevoked?.lease).toEqual({
      startsAt: released.startsAt.toISOString(),
      endsAt: released.endsAt.toISOString(),
      releasedAt: released.releasedAt?.toISOString(),
    });
    expect(revoked.endedAt).not.toBeNull();
    // One view, however it is reached: the list, GET by id, and the answer to the last action.
    for (const view of [listedApproved, listedPending, listedRevoked]) {
      expect(view).toEqual(await get(view?.id ?? ""));
    }
    expect(listedApproved).toEqual(afterBen);
    expect(listedRevoked).toEqual(revoked);
  });

  it("applies every filter together with a cursor: exactly the matching requests, each once", async () => {
    const created: FullView[] = [];
    for (let i = 0; i < 14; i++) {
      api.clock.advance(1000);
      const flow = i % 7 === 3 ? "combo-other" : "combo";
      const view = await submit(flow, i % 4 === 1 ? "quinn@example.com" : "pat@example.com");
      if (i % 3 === 0) {
        await act(ann, view.id, "approve");
      } else if (i % 3 === 1) {
        await act(ben, view.id, "deny");
      }
      created.push(await get(view.id));
    }
    const from = created[2]?.createdAt ?? "";
    const until = created[12]?.createdAt ?? "";
    const matches = (v: FullView) =>
      v.flow.name === "combo" &&
      v.requester.email === "pat@example.com" &&
      ["pending", "approved"].includes(v.state) &&
      v.createdAt >= from &&
      v.createdAt < until;
    const expected = created.filter(matches).reverse();
    // Each filter leaves out a request that all the others let through: none can go unapplied.
    const onlyFailing = (change: Partial<FullView>) =>
      created.some((v) => !matches(v) && matches({ ...v, ...change }));
    expect(onlyFailing({ flow: { name: "combo" } })).toBe(true);
    expect(onlyFailing({ requester: { email: "pat@example.com" } })).toBe(true);
    expect(onlyFailing({ state: "pending" })).toBe(true);
    const timeOnly = (v: FullView) => matches({ ...v, createdAt: from });
    expect(created.some((v) => v.createdAt < from && timeOnly(v))).toBe(true);
    expect(created.some((v) => v.createdAt >= until && timeOnly(v))).toBe(true);
    expect(expected.length).toBeGreaterThanOrEqual(4);

    const query =
      `state=approved,pending&flow=combo&requester=PAT@Example.com` +
      `&createdAfter=${encodeURIComponent(from)}&createdBefore=${encodeURIComponent(until)}&limit=2`;
    const all = await pages(query);
    expect(all.slice(0, -1).every((page) => page.length === 2)).toBe(true);
    expect(all.flat()).toEqual(expected);
  });
});
