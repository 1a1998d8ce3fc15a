import { randomUUID } from "node:crypto";
import { useTestDatabase } from "@keyturn/testkit/database";
import { activateRequest } from "@keyturn/usecases";
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
const tokens: Record<
  "ann" | "ben" | "rita" | "carl" | "admin" | "writerAdmin" | "service" | "intake",
  string
> = {
  intake: "",
  ann: "",
  ben: "",
  rita: "",
  carl: "",
  admin: "",
  writerAdmin: "",
  service: "",
};

type View = {
  id: string;
  state: string;
  reviews: { reviewer: { email: string }; decision: string; comment: string | null; override: boolean }[];
  lease: { startsAt: string; endsAt: string; releasedAt: string | null } | null;
  expiresAt: string | null;
  extensionCount: number;
};

beforeAll(async () => {
  api = await createTestApi(database.url);
  for (const person of ["ann", "ben", "rita", "carl"] as const) {
    tokens[person] = await api.token(["requests:write", "requests:read"], {
      owner: `${person}@example.com`,
      name: person,
    });
  }
  tokens.admin = await api.token(["flows:admin"], { owner: "root@example.com", name: "admin" });
  tokens.intake = await api.token(["requests:on-behalf"], { service: true, name: "intake" });
  tokens.writerAdmin = await api.token(["flows:admin", "requests:write"], {
    owner: "root@example.com",
    name: "wa",
  });
  tokens.service = await api.token(["requests:write", "flows:admin"], { service: true, name: "ci" });
  const flows = {
    "one-approval": flowRules(),
    "two-approvals": flowRules({ approvalsRequired: 2 }),
    "self-ok": flowRules({ selfApproval: true }),
    "ext-needs-approval": flowRules({
      extensions: { maxCount: 1, maxExtensionSeconds: 600, requiresApproval: true },
    }),
    "no-extensions": flowRules({
      extensions: { maxCount: 0, maxExtensionSeconds: 0, requiresApproval: false },
    }),
  };
  for (const [name, rules] of Object.entries(flows)) {
    expect(
      (await api.call("PUT", `/v1/flows/${name}`, { token: tokens.admin, body: rules })).statusCode,
    ).toBe(201);
  }
});
afterAll(async () => {
  await api.close();
});

async function submit(flow: string, requester = "rita@example.com"): Promise<string> {
  const response = await api.call("POST", "/v1/requests", {
    token: tokens.intake,
    body: { flow, requesterEmail: requester, reason: "INC-1 investigate" },
  });
  expect(response.statusCode).toBe(201);
  return response.json<View>().id;
}

const act = (token: string, id: string, action: string, body?: unknown) =>
  api.call("POST", `/v1/requests/${id}/${action}`, { token, ...(body === undefined ? {} : { body }) });

/** Audit events per action for one request. */
async function auditActions(requestId: string): Promise<string[]> {
  const events = await api.prisma.auditEvent.findMany({ where: { requestId }, orderBy: { seq: "asc" } });
  return events.map((e) => e.action);
}

describe("reviews: auth", () => {
  const id = randomUUID();
  itEnforcesAuth(
    () => api,
    [
      { method: "POST", url: `/v1/requests/${id}/approve`, scopes: ["requests:write"], body: {} },
      { method: "POST", url: `/v1/requests/${id}/deny`, scopes: ["requests:write"], body: {} },
      {
        method: "POST",
        url: `/v1/requests/${id}/override`,
        scopes: ["flows:admin"],
        body: { decision: "approve", comment: "x" },
      },
      { method: "POST", url: `/v1/requests/${id}/cancel`, scopes: ["requests:write"], body: {} },
      { method: "POST", url: `/v1/requests/${id}/revoke`, scopes: ["requests:write"], body: {} },
      {
        method: "POST",
        url: `/v1/requests/${id}/extend`,
        scopes: ["requests:write"],
        body: { additionalSeconds: 60 },
      },
    ],
  );
});

describe("the lifecycle through the API", () => {
  it("approve -> approved with a lease and a reconcile job; revoke -> revoked, lease released", async () => {
    const id = await submit("one-approval");
    const approved = await act(tokens.ann, id, "approve", { comment: "looks fine" });
    expect(approved.statusCode).toBe(200);
    const view = approved.json<View>();
    expect(view).toMatchObject({
      state: "approved",
      reviews: [
        {
          reviewer: { email: "ann@example.com" },
          decision: "approve",
          comment: "looks fine",
          override: false,
        },
      ],
      lease: { releasedAt: null },
    });
    const lease = await api.prisma.lease.findUnique({ where: { requestId: id } });
    expect(lease?.releasedAt).toBeNull();
    const reconcile = await api.prisma.outboxMessage.findMany({ where: { topic: "assignment.reconcile" } });
    expect(reconcile.some((m) => (m.payload as { requestId?: string }).requestId === id)).toBe(true);

    const revoked = await act(tokens.rita, id, "revoke", { reason: "done early" });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json<View>()).toMatchObject({
      state: "revoked",
      lease: { releasedAt: expect.any(String) },
    });
    expect((await api.prisma.lease.findUnique({ where: { requestId: id } }))?.releasedAt).not.toBeNull();
    expect(await auditActions(id)).toEqual(["request.submitted", "request.approved", "request.revoked"]);
  });

  it("deny -> denied, no lease", async () => {
    const id = await submit("one-approval");
    const denied = await act(tokens.ben, id, "deny", { comment: "not during the freeze" });
    expect(denied.statusCode).toBe(200);
    expect(denied.json<View>()).toMatchObject({ state: "denied", lease: null });
    expect(await auditActions(id)).toEqual(["request.submitted", "request.denied"]);
  });

  it("approve and deny take an omitted body", async () => {
    const id = await submit("one-approval");
    const approved = await act(tokens.ann, id, "approve");
    expect(approved.statusCode).toBe(200);
    expect(approved.json<View>().reviews[0]?.comment).toBeNull();
  });

  it("cancel: the requester's own token cancels; someone else needs asAdmin and flows:admin", async () => {
    const id = await submit("one-approval");
    await expectNoRowChanges(api, async () => {
      const notTheirs = await act(tokens.carl, id, "cancel", {});
      expect(notTheirs.statusCode).toBe(403);
      expect(problemOf(notTheirs).code).toBe("NOT_ALLOWED");

      const noScope = await act(tokens.carl, id, "cancel", { asAdmin: true });
      expect(noScope.statusCode).toBe(403);
      expect(problemOf(noScope)).toMatchObject({
        code: "INSUFFICIENT_SCOPE",
        detail: expect.stringContaining("flows:admin"),
      });
    });
    const cancelled = await act(tokens.rita, id, "cancel");
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<View>().state).toBe("cancelled");

    const other = await submit("one-approval");
    const byAdmin = await act(tokens.writerAdmin, other, "cancel", { asAdmin: true });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json<View>().state).toBe("cancelled");
    expect(await auditActions(other)).toEqual(["request.submitted", "request.cancelled"]);
  });

  it("extend: active access is extended by its requester within the flow's limits", async () => {
    const id = await submit("one-approval");
    expect((await act(tokens.ann, id, "approve")).statusCode).toBe(200);
    await expectNoRowChanges(api, async () => {
      const notActive = await act(tokens.rita, id, "extend", { additionalSeconds: 600 });
      expect(notActive.statusCode).toBe(409);
      expect(problemOf(notActive).code).toBe("INVALID_TRANSITION");
    });
    // The worker activates once AWS has the assignment; here the use case stands in for it.
    const activated = await activateRequest(api.usecases, { requestId: id });
    expect(activated.ok).toBe(true);
    const before = (await api.call("GET", `/v1/requests/${id}`, { token: tokens.rita })).json<View>();

    await expectNoRowChanges(api, async () => {
      const tooLong = await act(tokens.rita, id, "extend", { additionalSeconds: 1801 });
      expect(tooLong.statusCode).toBe(400);
      expect(problemOf(tooLong)).toMatchObject({
        code: "EXTENSION_TOO_LONG",
        detail: expect.stringContaining("1800"),
      });
      const notRequester = await act(tokens.ann, id, "extend", { additionalSeconds: 60 });
      expect(notRequester.statusCode).toBe(403);
      expect(problemOf(notRequester).code).toBe("NOT_ALLOWED");
      const bad = await act(tokens.rita, id, "extend", { additionalSeconds: 0 });
      expect(bad.statusCode).toBe(400);
      expect(problemOf(bad).errors?.[0]?.path).toBe("body.additionalSeconds");
    });

    const extended = await act(tokens.rita, id, "extend", { additionalSeconds: 600 });
    expect(extended.statusCode).toBe(200);
    const after = extended.json<View>();
    expect(after.extensionCount).toBe(1);
    expect(Date.parse(after.expiresAt ?? "") - Date.parse(before.expiresAt ?? "")).toBe(600_000);
    expect(after.lease?.endsAt).toBe(after.expiresAt);
    expect(await auditActions(id)).toEqual([
      "request.submitted",
      "request.approved",
      "request.activated",
      "request.extended",
    ]);
  });

  it("extend: a flow without extensions refuses; one needing approval takes an approver", async () => {
    const none = await submit("no-extensions");
    await act(tokens.ann, none, "approve");
    await activateRequest(api.usecases, { requestId: none });
    const refused = await act(tokens.rita, none, "extend", { additionalSeconds: 60 });
    expect(refused.statusCode).toBe(403);
    expect(problemOf(refused).code).toBe("EXTENSION_NOT_ALLOWED");

    const gated = await submit("ext-needs-approval");
    await act(tokens.ann, gated, "approve");
    await activateRequest(api.usecases, { requestId: gated });
    const byRequester = await act(tokens.rita, gated, "extend", { additionalSeconds: 60 });
    expect(byRequester.statusCode).toBe(403);
    expect(problemOf(byRequester).code).toBe("NOT_AN_APPROVER");
    const byApprover = await act(tokens.ben, gated, "extend", { additionalSeconds: 60 });
    expect(byApprover.statusCode).toBe(200);
    expect(byApprover.json<View>().extensionCount).toBe(1);
    const limit = await act(tokens.ben, gated, "extend", { additionalSeconds: 60 });
    expect(limit.statusCode).toBe(409);
    expect(problemOf(limit).code).toBe("EXTENSION_LIMIT");
  });
});

describe("the flow's rules, through the API", () => {
  it("403 SELF_APPROVAL when the requester approves their own request, nothing written", async () => {
    const id = await submit("one-approval", "ann@example.com");
    await expectNoRowChanges(api, async () => {
      const response = await act(tokens.ann, id, "approve");
      expect(response.statusCode).toBe(403);
      expect(problemOf(response)).toMatchObject({
        code: "SELF_APPROVAL",
        detail: "you cannot review your own request",
      });
    });
  });

  it("self-approval is allowed when the flow says so, and the audit event says it was", async () => {
    const id = await submit("self-ok", "ann@example.com");
    const response = await act(tokens.ann, id, "approve");
    expect(response.statusCode).toBe(200);
    expect(response.json<View>().state).toBe("approved");
    const event = await api.prisma.auditEvent.findFirstOrThrow({
      where: { requestId: id, action: "request.approved" },
    });
    expect(event.data).toMatchObject({ selfApproval: true, mode: "reviews" });
  });

  it("two approvals need two people: a second approval by the same person is 409 ALREADY_REVIEWED", async () => {
    const id = await submit("two-approvals");
    const first = await act(tokens.ann, id, "approve");
    expect(first.statusCode).toBe(200);
    expect(first.json<View>().state).toBe("pending");

    await expectNoRowChanges(api, async () => {
      const again = await act(tokens.ann, id, "approve");
      expect(again.statusCode).toBe(409);
      expect(problemOf(again).code).toBe("ALREADY_REVIEWED");
    });

    const second = await act(tokens.ben, id, "approve");
    expect(second.statusCode).toBe(200);
    expect(second.json<View>().state).toBe("approved");
    expect(await auditActions(id)).toEqual([
      "request.submitted",
      "request.review_recorded",
      "request.approved",
    ]);
  });

  it("403 NOT_AN_APPROVER for someone the flow does not list, nothing written", async () => {
    const id = await submit("one-approval");
    await expectNoRowChanges(api, async () => {
      const response = await act(tokens.carl, id, "approve");
      expect(response.statusCode).toBe(403);
      expect(problemOf(response)).toMatchObject({
        code: "NOT_AN_APPROVER",
        detail: "you are not an approver of flow 'one-approval'",
      });
    });
  });

  it("409 ALREADY_DECIDED names who decided", async () => {
    const id = await submit("one-approval");
    await act(tokens.ann, id, "approve");
    await expectNoRowChanges(api, async () => {
      const response = await act(tokens.ben, id, "deny");
      expect(response.statusCode).toBe(409);
      expect(problemOf(response)).toMatchObject({
        code: "ALREADY_DECIDED",
        detail: "request is already approved by ann@example.com",
      });
    });
  });

  it("a service token cannot review: 403 SERVICE_TOKEN_CANNOT_REVIEW pointing at override", async () => {
    const id = await submit("one-approval");
    await expectNoRowChanges(api, async () => {
      for (const action of ["approve", "deny"]) {
        const response = await act(tokens.service, id, action);
        expect(response.statusCode).toBe(403);
        expect(problemOf(response)).toMatchObject({
          code: "SERVICE_TOKEN_CANNOT_REVIEW",
          detail: expect.stringContaining(`/v1/requests/${id}/override`),
        });
      }
    });
  });

  it("override approve is its own, loudly audited action, logged at warn", async () => {
    const id = await submit("two-approvals");
    const response = await act(tokens.admin, id, "override", { decision: "approve", comment: "P1 outage" });
    expect(response.statusCode).toBe(200);
    expect(response.json<View>()).toMatchObject({
      state: "approved",
      reviews: [{ reviewer: { email: "root@example.com" }, override: true, comment: "P1 outage" }],
    });
    expect(await auditActions(id)).toEqual(["request.submitted", "request.override_approved"]);
    const warning = api.logs
      .map((line) => JSON.parse(line) as { level: number; msg: string; accessRequestId?: string })
      .find((entry) => entry.msg === "admin override" && entry.accessRequestId === id);
    expect(warning?.level).toBe(40);
  });

  it("a service token overrides under its service name; override deny is audited as such", async () => {
    const id = await submit("one-approval");
    const response = await act(tokens.service, id, "override", { decision: "deny", comment: "abuse" });
    expect(response.statusCode).toBe(200);
    expect(response.json<View>()).toMatchObject({
      state: "denied",
      reviews: [{ reviewer: { email: "service:ci-bot" }, override: true }],
    });
    expect(await auditActions(id)).toEqual(["request.submitted", "request.override_denied"]);
  });

  it("override needs a non-empty comment: 400 naming body.comment, nothing written", async () => {
    const id = await submit("one-approval");
    await expectNoRowChanges(api, async () => {
      for (const body of [{ decision: "approve" }, { decision: "approve", comment: "   " }]) {
        const response = await act(tokens.admin, id, "override", body);
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe("VALIDATION_FAILED");
        expect(problem.errors?.map((e) => e.path)).toEqual(["body.comment"]);
      }
      const badDecision = await act(tokens.admin, id, "override", { decision: "maybe", comment: "x" });
      expect(problemOf(badDecision).errors?.map((e) => e.path)).toEqual(["body.decision"]);
    });
  });

  it("revoke by someone who is neither requester nor approver is refused unless asAdmin", async () => {
    const id = await submit("one-approval");
    await act(tokens.ann, id, "approve");
    await expectNoRowChanges(api, async () => {
      const response = await act(tokens.carl, id, "revoke", {});
      expect(response.statusCode).toBe(403);
      expect(problemOf(response).code).toBe("NOT_ALLOWED");
      const noScope = await act(tokens.carl, id, "revoke", { asAdmin: true });
      expect(problemOf(noScope).code).toBe("INSUFFICIENT_SCOPE");
    });
    const byAdmin = await act(tokens.writerAdmin, id, "revoke", {
      asAdmin: true,
      reason: "left the company",
    });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json<View>().state).toBe("revoked");
    const event = await api.prisma.auditEvent.findFirstOrThrow({
      where: { requestId: id, action: "request.revoked" },
    });
    expect(event.data).toMatchObject({ asAdmin: true, reason: "left the company" });
  });
});

describe("bad ids and bodies on every action", () => {
  const actions: { action: string; token: () => string; body: unknown }[] = [
    { action: "approve", token: () => tokens.ann, body: {} },
    { action: "deny", token: () => tokens.ann, body: {} },
    { action: "override", token: () => tokens.admin, body: { decision: "approve", comment: "x" } },
    { action: "cancel", token: () => tokens.rita, body: {} },
    { action: "revoke", token: () => tokens.rita, body: {} },
    { action: "extend", token: () => tokens.rita, body: { additionalSeconds: 60 } },
  ];
  for (const { action, token, body } of actions) {
    it(`${action}: 400 for a malformed id, 404 for an unknown one, 400 for unknown fields; nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const malformed = await act(token(), "12345", action, body);
        expect(malformed.statusCode).toBe(400);
        expect(problemOf(malformed).errors).toEqual([{ path: "params.id", message: "must be a UUID" }]);

        const unknownId = randomUUID();
        const unknown = await act(token(), unknownId, action, body);
        expect(unknown.statusCode).toBe(404);
        expect(problemOf(unknown)).toMatchObject({
          code: "REQUEST_NOT_FOUND",
          detail: `no request ${unknownId}`,
        });

        const extra = await act(token(), unknownId, action, { ...(body as object), bogus: true });
        expect(extra.statusCode).toBe(400);
        expect(problemOf(extra).code).toBe("VALIDATION_FAILED");
      });
    });
  }
});

describe("every state change writes exactly one audit event", () => {
  it("counts audit events per action across a run of API calls", async () => {
    const count = async () => {
      const rows = await api.prisma.auditEvent.groupBy({ by: ["action"], _count: { _all: true } });
      return Object.fromEntries(rows.map((r) => [r.action, r._count._all]));
    };
    const delta = async (run: () => Promise<unknown>) => {
      const before = await count();
      await run();
      const after = await count();
      return Object.fromEntries(
        Object.entries(after)
          .map(([action, n]) => [action, n - (before[action] ?? 0)] as const)
          .filter(([, n]) => n !== 0),
      );
    };
    let id = "";
    expect(
      await delta(async () => {
        id = await submit("two-approvals");
      }),
    ).toEqual({ "request.submitted": 1 });
    expect(await delta(() => act(tokens.ann, id, "approve"))).toEqual({ "request.review_recorded": 1 });
    expect(await delta(() => act(tokens.ann, id, "approve"))).toEqual({});
    expect(await delta(() => act(tokens.ben, id, "approve"))).toEqual({ "request.approved": 1 });
    expect(await delta(() => act(tokens.ben, id, "approve"))).toEqual({});
    expect(await delta(() => activateRequest(api.usecases, { requestId: id }))).toEqual({
      "request.activated": 1,
    });
    expect(await delta(() => act(tokens.rita, id, "extend", { additionalSeconds: 60 }))).toEqual({
      "request.extended": 1,
    });
    expect(await delta(() => act(tokens.rita, id, "revoke"))).toEqual({ "request.revoked": 1 });
    expect(await delta(() => act(tokens.rita, id, "revoke"))).toEqual({});
  });
});
