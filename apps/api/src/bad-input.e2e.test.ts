import { randomUUID } from "node:crypto";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminWithPendingRequest,
  createTestApi,
  expectNoRowChanges,
  flowRules,
  problemOf,
  type TestApi,
} from "./test-support.js";

// Bad input gives a 4xx problem with a stable code, never a 500, and writes nothing: text
// PostgreSQL cannot store (NUL, half a surrogate pair) in any field, and path parameters longer
// than any id.

const database = useTestDatabase();
let api: TestApi;
let admin: string;
let requestId: string;

beforeAll(async () => {
  api = await createTestApi(database.url);
  ({ admin, requestId } = await adminWithPendingRequest(api));
});
afterAll(async () => {
  await api.close();
});

const NUL = "a\u0000b";
const LONE_SURROGATE = "a\ud800b";
const BELL = "ring\u0007";

type Case = {
  name: string;
  method: "POST" | "PUT";
  url: () => string;
  body: Record<string, unknown>;
  path: string;
};

const fieldCases = (value: string): Case[] => [
  {
    name: "reason",
    method: "POST",
    url: () => "/v1/requests",
    body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: value },
    path: "body.reason",
  },
  {
    name: "ticket",
    method: "POST",
    url: () => "/v1/requests",
    body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "x", ticket: value },
    path: "body.ticket",
  },
  {
    name: "token name",
    method: "POST",
    url: () => "/v1/tokens",
    body: { name: value, ownerKind: "service", owner: "ci", scopes: ["requests:read"] },
    path: "body.name",
  },
  {
    name: "review comment",
    method: "POST",
    url: () => `/v1/requests/${requestId}/deny`,
    body: { comment: value },
    path: "body.comment",
  },
  {
    name: "flow title",
    method: "PUT",
    url: () => "/v1/flows/s3-prod",
    body: { ...flowRules(), title: value },
    path: "body.title",
  },
];

describe("text PostgreSQL cannot store, in any field", () => {
  for (const [label, value] of [
    ["a NUL character", NUL],
    ["a lone UTF-16 surrogate", LONE_SURROGATE],
    ["a control character", BELL],
  ] as const) {
    for (const field of fieldCases(value)) {
      it(`${label} in the ${field.name}: 400 VALIDATION_FAILED at ${field.path}, nothing written`, async () => {
        await expectNoRowChanges(api, async () => {
          const response = await api.call(field.method, field.url(), { token: admin, body: field.body });
          expect(response.statusCode).toBe(400);
          const problem = problemOf(response);
          expect(problem.code).toBe("VALIDATION_FAILED");
          expect(problem.errors).toEqual([{ path: field.path, message: expect.stringMatching(/^must /) }]);
        });
      });
    }
  }

  it("in a key, a query parameter and a path parameter too", async () => {
    await expectNoRowChanges(api, async () => {
      const key = await api.call("POST", "/v1/requests", {
        token: admin,
        body: { flow: "s3-prod", requesterEmail: "rita@example.com", [`re${NUL}ason`]: "x" },
      });
      expect(key.statusCode).toBe(400);
      expect(problemOf(key).errors?.[0]?.path).toBe("body.<key>");
      const query = await api.call(
        "GET",
        `/v1/requests?requester=${encodeURIComponent(`r${NUL}@example.com`)}`,
        {
          token: admin,
        },
      );
      expect(query.statusCode).toBe(400);
      expect(problemOf(query).errors).toEqual([
        { path: "querystring.requester", message: expect.any(String) },
      ]);
      const param = await api.call("GET", `/v1/requests/${encodeURIComponent(`${randomUUID()}\u0000`)}`, {
        token: admin,
      });
      expect(param.statusCode).toBe(400);
      expect(problemOf(param).code).toBe("VALIDATION_FAILED");
    });
  });

  it("line breaks and emoji are fine where people write prose", async () => {
    const response = await api.call("POST", "/v1/requests", {
      token: admin,
      body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "line one\nline two 🗄️ – Zoë" },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json<{ reason: string }>().reason).toBe("line one\nline two 🗄️ – Zoë");
  });
});

describe("path parameters", () => {
  it("300 characters: 400 VALIDATION_FAILED from the route's schema; 1000: 414 URI_TOO_LONG; both problems", async () => {
    await expectNoRowChanges(api, async () => {
      const long = await api.call("GET", `/v1/requests/${"a".repeat(300)}`, { token: admin });
      expect(long.statusCode).toBe(400);
      expect(problemOf(long)).toMatchObject({
        code: "VALIDATION_FAILED",
        errors: [{ path: "params.id", message: "must be a UUID" }],
      });
      const longer = await api.call("POST", `/v1/requests/${"a".repeat(1000)}/approve`, { token: admin });
      expect(longer.statusCode).toBe(414);
      expect(problemOf(longer).code).toBe("URI_TOO_LONG");
      const flow = await api.call("PUT", `/v1/flows/${"f".repeat(300)}`, { token: admin, body: flowRules() });
      expect(flow.statusCode).toBe(400);
      expect(problemOf(flow).code).toBe("VALIDATION_FAILED");
    });
  });

  it("broken percent-encoding: 400 INVALID_URL", async () => {
    const response = await api.call("GET", "/v1/requests/%E0%A4%A", { token: admin });
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).code).toBe("INVALID_URL");
  });
});
