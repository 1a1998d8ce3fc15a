import { randomUUID } from "node:crypto";
import { useTestDatabase } from "@keyturn/testkit/database";
import { hashToken } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALL_SCOPES,
  createTestApi,
  expectNoRowChanges,
  itEnforcesAuth,
  problemOf,
  type TestApi,
} from "./test-support.js";

const database = useTestDatabase();
let api: TestApi;
let root: string;

type TokenJson = { id: string; token?: string; prefix: string; scopes: string[]; revokedAt: string | null };

beforeAll(async () => {
  api = await createTestApi(database.url);
  root = await api.token(ALL_SCOPES, { name: "root" });
});
afterAll(async () => {
  await api.close();
});

const createToken = (body: Record<string, unknown>, token = root) =>
  api.call("POST", "/v1/tokens", { token, body });

describe("tokens: auth", () => {
  itEnforcesAuth(
    () => api,
    [
      {
        method: "POST",
        url: "/v1/tokens",
        scopes: ["tokens:admin"],
        body: { name: "x", ownerKind: "person", owner: "x@example.com", scopes: ["requests:read"] },
      },
      { method: "GET", url: "/v1/tokens", scopes: ["tokens:admin"] },
    ],
  );
});

describe("POST /v1/tokens, GET /v1/tokens, DELETE /v1/tokens/:id", () => {
  it("shows the secret once, lists metadata only, and revocation stops the token at once", async () => {
    const created = await createToken({
      name: "grafana",
      ownerKind: "service",
      owner: "grafana",
      scopes: ["requests:read", "audit:read"],
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<TokenJson & Record<string, unknown>>();
    expect(body).toMatchObject({
      name: "grafana",
      ownerKind: "service",
      owner: "grafana",
      scopes: ["audit:read", "requests:read"],
      revokedAt: null,
      expiresAt: null,
    });
    expect(body.token).toMatch(/^kt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}$/);
    expect(body.token?.startsWith(body.prefix)).toBe(true);
    expect(Object.keys(body)).not.toContain("hash");
    const stored = await api.prisma.apiToken.findUniqueOrThrow({ where: { id: body.id } });
    expect(stored.hash).toBe(hashToken(body.token ?? ""));
    expect(JSON.stringify(stored)).not.toContain(body.token);
    const audit = await api.prisma.auditEvent.findFirstOrThrow({
      where: { action: "token.created", actorType: "token" },
    });
    expect(JSON.stringify(audit.data)).not.toContain(body.token);

    const secret = body.token ?? "";
    expect((await api.call("GET", "/v1/requests", { token: secret })).statusCode).toBe(200);

    const listed = await api.call("GET", "/v1/tokens", { token: root });
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(secret);
    expect(listed.body).not.toContain(stored.hash);
    expect(listed.json<{ items: TokenJson[] }>().items.map((t) => t.id)).toContain(body.id);

    const revoked = await api.call("DELETE", `/v1/tokens/${body.id}`, { token: root });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json<TokenJson>().revokedAt).toEqual(expect.any(String));
    const refused = await api.call("GET", "/v1/requests", { token: secret });
    expect(refused.statusCode).toBe(401);

    // Revoking again is idempotent and writes no second audit event.
    await expectNoRowChanges(api, async () => {
      expect((await api.call("DELETE", `/v1/tokens/${body.id}`, { token: root })).statusCode).toBe(200);
    });
    expect(
      await api.prisma.auditEvent.count({
        where: { action: "token.revoked", data: { path: ["id"], equals: body.id } },
      }),
    ).toBe(1);
  });

  it("an expired token is refused with 401", async () => {
    const created = await createToken({
      name: "short",
      ownerKind: "person",
      owner: "Admin@Example.com",
      scopes: ["requests:read"],
      expiresAt: new Date(api.clock.now().getTime() + 60_000).toISOString(),
    });
    expect(created.statusCode).toBe(201);
    const { token, owner } = created.json<{ token: string; owner: string }>();
    expect(owner).toBe("admin@example.com");
    expect((await api.call("GET", "/v1/requests", { token })).statusCode).toBe(200);
    api.clock.advance(61_000);
    const expired = await api.call("GET", "/v1/requests", { token });
    expect(expired.statusCode).toBe(401);
    expect(problemOf(expired).detail).toBe("the API token is unknown, revoked or expired");
  });

  it("a token cannot mint scopes it does not hold (403), nothing written", async () => {
    const limited = await api.token(["tokens:admin", "requests:read"]);
    await expectNoRowChanges(api, async () => {
      const response = await createToken(
        { name: "up", ownerKind: "person", owner: "x@example.com", scopes: ["requests:read", "flows:admin"] },
        limited,
      );
      expect(response.statusCode).toBe(403);
      expect(problemOf(response)).toMatchObject({
        code: "INSUFFICIENT_SCOPE",
        detail: "this token lacks scope 'flows:admin'",
      });
    });
  });

  const rejections: { name: string; body: Record<string, unknown>; path: string }[] = [
    {
      name: "no scopes",
      body: { name: "n", ownerKind: "person", owner: "x@example.com", scopes: [] },
      path: "body.scopes",
    },
    {
      name: "an unknown scope",
      body: { name: "n", ownerKind: "person", owner: "x@example.com", scopes: ["root"] },
      path: "body.scopes.0",
    },
    {
      name: "a person owner that is not an email",
      body: { name: "n", ownerKind: "person", owner: "pat", scopes: ["audit:read"] },
      path: "body.owner",
    },
    {
      name: "a service name with spaces",
      body: { name: "n", ownerKind: "service", owner: "my service", scopes: ["audit:read"] },
      path: "body.owner",
    },
    {
      name: "an unknown owner kind",
      body: { name: "n", ownerKind: "robot", owner: "r", scopes: ["audit:read"] },
      path: "body.ownerKind",
    },
    {
      name: "an empty name",
      body: { name: " ", ownerKind: "service", owner: "s", scopes: ["audit:read"] },
      path: "body.name",
    },
    {
      name: "an expiry in the past",
      body: {
        name: "n",
        ownerKind: "service",
        owner: "s",
        scopes: ["audit:read"],
        expiresAt: "2020-01-01T00:00:00Z",
      },
      path: "body.expiresAt",
    },
    {
      name: "an expiry that is not a date",
      body: { name: "n", ownerKind: "service", owner: "s", scopes: ["audit:read"], expiresAt: "tomorrow" },
      path: "body.expiresAt",
    },
  ];
  for (const { name, body, path } of rejections) {
    it(`400 VALIDATION_FAILED for ${name}, nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await createToken(body);
        expect(response.statusCode).toBe(400);
        const problem = problemOf(response);
        expect(problem.code).toBe("VALIDATION_FAILED");
        expect(problem.errors?.map((e) => e.path)).toContain(path);
      });
    });
  }

  it("DELETE: 404 TOKEN_NOT_FOUND for an unknown id, 400 for a malformed one; nothing written", async () => {
    await expectNoRowChanges(api, async () => {
      const unknown = await api.call("DELETE", `/v1/tokens/${randomUUID()}`, { token: root });
      expect(unknown.statusCode).toBe(404);
      expect(problemOf(unknown).code).toBe("TOKEN_NOT_FOUND");
      const malformed = await api.call("DELETE", "/v1/tokens/xyz", { token: root });
      expect(malformed.statusCode).toBe(400);
      expect(problemOf(malformed).errors).toEqual([{ path: "params.id", message: "must be a UUID" }]);
    });
  });

  it("tokens never reach the logs", async () => {
    const created = await createToken({
      name: "logged",
      ownerKind: "service",
      owner: "logs",
      scopes: ["audit:read"],
    });
    const secret = created.json<{ token: string }>().token;
    await api.call("GET", "/v1/audit/verify", { token: secret });
    await api.call("GET", "/v1/audit/verify", { token: `${secret}x` });
    const logs = api.logs.join("");
    expect(logs).toContain("request completed");
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(root);
    expect(logs.toLowerCase()).not.toContain("bearer");
  });
});

describe("malformed Authorization headers", () => {
  const headers = [
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer a b",
    "Bearer short",
    `Bearer ${"x".repeat(300)}`,
    "kt_token",
  ];
  for (const authorization of headers) {
    it(`401 for '${authorization.slice(0, 20)}', nothing written`, async () => {
      await expectNoRowChanges(api, async () => {
        const response = await api.call("GET", "/v1/tokens", { headers: { authorization } });
        expect(response.statusCode).toBe(401);
        expect(response.headers["www-authenticate"]).toMatch(/^Bearer realm="keyturn"/);
        expect(problemOf(response).code).toBe("UNAUTHENTICATED");
      });
    });
  }
});
