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
let admin: string;
let reader: string;

beforeAll(async () => {
  api = await createTestApi(database.url);
  admin = await api.token(["flows:admin"]);
  reader = await api.token(["requests:read"]);
});
afterAll(async () => {
  await api.close();
});

const auditCount = (action: string) => api.prisma.auditEvent.count({ where: { action } });

describe("flows: auth", () => {
  itEnforcesAuth(
    () => api,
    [
      { method: "PUT", url: "/v1/flows/auth-check", scopes: ["flows:admin"], body: flowRules() },
      { method: "GET", url: "/v1/flows", scopes: ["requests:read", "flows:admin"] },
      { method: "GET", url: "/v1/flows/auth-check", scopes: ["requests:read", "flows:admin"] },
      { method: "POST", url: "/v1/flows/auth-check/archive", scopes: ["flows:admin"] },
    ],
  );
});

describe("PUT /v1/flows/:name", () => {
  it("creates (201), is idempotent (200, changed:false) and versions changes (200, version 2)", async () => {
    const created = await api.call("PUT", "/v1/flows/s3-prod", { token: admin, body: flowRules() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      created: true,
      changed: true,
      flow: { name: "s3-prod", version: 1, rules: flowRules(), archivedAt: null },
    });
    expect(await auditCount("flow.created")).toBe(1);

    const before = await api.counts();
    const same = await api.call("PUT", "/v1/flows/s3-prod", { token: admin, body: flowRules() });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ created: false, changed: false, flow: { version: 1 } });
    expect(await api.counts()).toEqual(before);

    const changed = await api.call("PUT", "/v1/flows/s3-prod", {
      token: admin,
      body: flowRules({ maxDurationSeconds: 14_400 }),
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ created: false, changed: true, flow: { version: 2 } });
    expect(changed.json().flow.rules.maxDurationSeconds).toBe(14_400);
    expect(await auditCount("flow.updated")).toBe(1);
  });

  it("concurrent first PUTs of one name: one creates, none fails with a 500 or half-writes", async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.call("PUT", "/v1/flows/contended", { token: admin, body: flowRules({ title: `take ${i}` }) }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 201 || s === 409)).toBe(true);
    for (const conflict of responses.filter((r) => r.statusCode === 409)) {
      expect(problemOf(conflict).code).toBe("CONFLICT");
    }
    const versions = await api.prisma.flowVersion.count({ where: { flowName: "contended" } });
    expect(versions).toBe(statuses.filter((s) => s < 300).length);
    const audited = await api.prisma.auditEvent.count({
      where: {
        action: { in: ["flow.created", "flow.updated"] },
        data: { path: ["name"], equals: "contended" },
      },
    });
    expect(audited).toBe(versions);
  });

  it("keeps optional fields exactly as sent", async () => {
    const rules = flowRules({
      description: "Read/write to the data lake",
      approvalChannel: "C0123ABCD",
      reason: { required: true, pattern: "[A-Z]+-\\d+ .+" },
      approvers: [
        { kind: "slack_group", id: "S0ABCDEF" },
        { kind: "slack_user", id: "U0ABCDEF" },
      ],
    });
    const response = await api.call("PUT", "/v1/flows/with-extras", { token: admin, body: rules });
    expect(response.statusCode).toBe(201);
    expect(response.json().flow.rules).toEqual(rules);
  });

  const rejections: {
    name: string;
    body: unknown;
    url?: string;
    code: string;
    path: string;
    message?: RegExp;
  }[] = [
    {
      name: "default duration above the max (core's consistency rule)",
      body: flowRules({ defaultDurationSeconds: 9000, maxDurationSeconds: 3600 }),
      code: "INVALID_FLOW",
      path: "body.defaultDurationSeconds",
      message: /maxDurationSeconds/,
    },
    {
      name: "an 11-digit account id",
      body: flowRules({ targets: [{ accountId: "11112222333", permissionSetName: "S3Access" }] }),
      code: "VALIDATION_FAILED",
      path: "body.targets.0.accountId",
      message: /12-digit/,
    },
    {
      name: "a permission set name over 32 characters",
      body: flowRules({ targets: [{ accountId: "111122223333", permissionSetName: "x".repeat(33) }] }),
      code: "VALIDATION_FAILED",
      path: "body.targets.0.permissionSetName",
    },
    {
      name: "a permission set name with a space",
      body: flowRules({ targets: [{ accountId: "111122223333", permissionSetName: "S3 Access" }] }),
      code: "VALIDATION_FAILED",
      path: "body.targets.0.permissionSetName",
    },
    {
      name: "approvalsRequired 0",
      body: flowRules({ approvalsRequired: 0 }),
      code: "VALIDATION_FAILED",
      path: "body.approvalsRequired",
    },
    {
      name: "a fractional duration",
      body: flowRules({ defaultDurationSeconds: 90.5 }),
      code: "VALIDATION_FAILED",
      path: "body.defaultDurationSeconds",
    },
    {
      name: "a negative pending timeout",
      body: flowRules({ pendingTimeoutSeconds: -1 }),
      code: "VALIDATION_FAILED",
      path: "body.pendingTimeoutSeconds",
    },
    {
      name: "a misspelt field",
      body: { ...flowRules(), approvalsRequried: 2 },
      code: "VALIDATION_FAILED",
      path: "body",
      message: /approvalsRequried/,
    },
    {
      name: "a missing field",
      body: (({ extensions: _, ...rest }) => rest)(flowRules()),
      code: "VALIDATION_FAILED",
      path: "body.extensions",
    },
    {
      name: "an unknown approver kind",
      body: flowRules({ approvers: [{ kind: "team", id: "x" } as never] }),
      code: "VALIDATION_FAILED",
      path: "body.approvers.0.kind",
    },
    {
      name: "'anyone' as approver (core's rule)",
      body: flowRules({ approvers: [{ kind: "anyone" }] }),
      code: "INVALID_FLOW",
      path: "body.approvers",
    },
    {
      name: "a reason pattern that is not a regex",
      body: flowRules({ reason: { required: true, pattern: "([a-z" } }),
      code: "INVALID_FLOW",
      path: "body.reason.pattern",
    },
    {
      name: "an invalid flow name",
      url: "/v1/flows/Bad_Name",
      body: flowRules(),
      code: "VALIDATION_FAILED",
      path: "params.name",
    },
  ];
  for (const rejection of rejections) {
    it(`400 ${rejection.code} for ${rejection.name}, nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await api.call("PUT", rejection.url ?? "/v1/flows/rejected", {
          token: admin,
          body: rejection.body,
        });
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe(rejection.code);
        const error = problem.errors?.find((e) => e.path === rejection.path);
        expect(error, JSON.stringify(problem.errors)).toBeDefined();
        expect(problem.detail).toContain(rejection.path.replace(/^body\./, ""));
        if (rejection.message !== undefined) {
          expect(`${error?.message} ${problem.detail}`).toMatch(rejection.message);
        }
      });
    });
  }

  it("400 MALFORMED_JSON for a body that is not JSON, nothing written", async () => {
    await expectNoRowChanges(api, async () => {
      const response = await api.call("PUT", "/v1/flows/rejected", {
        token: admin,
        body: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect(response.statusCode).toBe(400);
      expect(problemOf(response).code).toBe("MALFORMED_JSON");
    });
  });
});

describe("GET /v1/flows and /v1/flows/:name", () => {
  it("lists current versions and gets one, for requests:read as for flows:admin", async () => {
    await api.call("PUT", "/v1/flows/listed", { token: admin, body: flowRules({ title: "Listed" }) });
    for (const token of [reader, admin]) {
      const list = await api.call("GET", "/v1/flows", { token });
      expect(list.statusCode).toBe(200);
      const names = list.json<{ items: { name: string }[] }>().items.map((f) => f.name);
      expect(names).toContain("listed");
      expect(names).toEqual([...names].sort());

      const one = await api.call("GET", "/v1/flows/listed", { token });
      expect(one.statusCode).toBe(200);
      expect(one.json()).toMatchObject({ name: "listed", version: 1, rules: { title: "Listed" } });
    }
  });

  it("404 NOT_FOUND for an unknown flow and 400 for a malformed name", async () => {
    const missing = await api.call("GET", "/v1/flows/nope", { token: reader });
    expect(missing.statusCode).toBe(404);
    expect(problemOf(missing)).toMatchObject({ code: "NOT_FOUND", detail: "no flow named 'nope'" });

    const malformed = await api.call("GET", "/v1/flows/-bad", { token: reader });
    expect(malformed.statusCode).toBe(400);
    expect(problemOf(malformed).errors?.[0]?.path).toBe("params.name");
  });
});

describe("POST /v1/flows/:name/archive", () => {
  it("refuses new requests, lets a filed one be decided, activated and extended, is idempotent and audited once; a PUT brings it back", async () => {
    const ann = await api.token(["flows:admin", "requests:write", "requests:on-behalf"], {
      owner: "ann@example.com",
    });
    expect(
      (await api.call("PUT", "/v1/flows/archivable", { token: ann, body: flowRules() })).statusCode,
    ).toBe(201);
    const filed = await api.call("POST", "/v1/requests", {
      token: ann,
      body: { flow: "archivable", requesterEmail: "rita@example.com", reason: "INC-7" },
    });
    expect(filed.statusCode).toBe(201);
    const requestId = filed.json<{ id: string }>().id;
    const audited = await auditCount("flow.archived");

    const archived = await api.call("POST", "/v1/flows/archivable/archive", { token: ann });
    expect(archived.statusCode).toBe(200);
    expect(archived.json()).toMatchObject({ archived: true, flow: { name: "archivable", version: 1 } });
    expect(archived.json<{ flow: { archivedAt: string | null } }>().flow.archivedAt).not.toBeNull();
    expect(await auditCount("flow.archived")).toBe(audited + 1);

    await expectNoRowChanges(api, async () => {
      const again = await api.call("POST", "/v1/flows/archivable/archive", { token: ann });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ archived: false });
      const refused = await api.call("POST", "/v1/requests", {
        token: ann,
        body: { flow: "archivable", requesterEmail: "rita@example.com", reason: "INC-8" },
      });
      expect(refused.statusCode).toBe(400);
      expect(problemOf(refused).code).toBe("FLOW_ARCHIVED");
    });

    // The request filed before the archive is judged under its own flow version and goes on.
    const approved = await api.call("POST", `/v1/requests/${requestId}/approve`, { token: ann, body: {} });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: "approved" });
    // The running grant: activated (the worker's use case), then extended by its requester.
    expect((await activateRequest(api.usecases, { requestId })).ok).toBe(true);
    const rita = await api.token(["requests:write"], { owner: "rita@example.com" });
    const extended = await api.call("POST", `/v1/requests/${requestId}/extend`, {
      token: rita,
      body: { additionalSeconds: 600 },
    });
    expect(extended.statusCode).toBe(200);
    expect(extended.json()).toMatchObject({ state: "active", extensionCount: 1 });

    const back = await api.call("PUT", "/v1/flows/archivable", { token: ann, body: flowRules() });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ changed: true, flow: { version: 2, archivedAt: null } });
  });

  it("404 NOT_FOUND for an unknown flow, nothing written", async () => {
    await expectNoRowChanges(api, async () => {
      const missing = await api.call("POST", "/v1/flows/nope/archive", { token: admin });
      expect(missing.statusCode).toBe(404);
      expect(problemOf(missing)).toMatchObject({ code: "NOT_FOUND", detail: "no flow named 'nope'" });
    });
  });
});
