import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectNoRowChanges, flowRules, problemOf, type TestApi } from "./test-support.js";

// DESIGN.md invariant 9 over the API: no scope lets its holder act as another person. A person
// token *is* that person to every use case, so nobody but the person obtains one; a token grants
// and revokes only within its own scopes; filing for someone else is an explicit integration scope,
// marked on the request and in the audit trail.

const database = useTestDatabase();
let api: TestApi;

type TokenJson = { id: string; token: string; owner: string; ownerKind: string; scopes: string[] };
type View = { id: string; state: string; source: string; requester: { email: string } };

beforeAll(async () => {
  api = await createTestApi(database.url);
  const admin = await api.token(["flows:admin"], { owner: "root@example.com" });
  // Ann and Bob approve; one approval from someone other than the requester is enough.
  const put = await api.call("PUT", "/v1/flows/s3-prod", {
    token: admin,
    body: flowRules({
      approvers: [
        { kind: "email", email: "ann@example.com" },
        { kind: "email", email: "bob@example.com" },
      ],
    }),
  });
  expect(put.statusCode).toBe(201);
});
afterAll(async () => {
  await api.close();
});

const mint = (token: string, body: Record<string, unknown>) =>
  api.call("POST", "/v1/tokens", { token, body });

describe("minting person tokens", () => {
  it("tokens:admin + requests:write cannot mint a token for Bob, so cannot approve as Bob (the issue's attack)", async () => {
    // Mallory (not an approver) holds tokens:admin and requests:write, but not flows:admin.
    const mallory = await api.token(["tokens:admin", "requests:write", "requests:read"], {
      owner: "mallory@example.com",
      name: "mallory",
    });
    const filed = await api.call("POST", "/v1/requests", {
      token: mallory,
      body: { flow: "s3-prod", reason: "INC-9 quick look" },
    });
    expect(filed.statusCode).toBe(201);
    const request = filed.json<View>();
    expect(request).toMatchObject({ requester: { email: "mallory@example.com" }, source: "api" });

    await expectNoRowChanges(api, async () => {
      const forged = await mint(mallory, {
        name: "bob's",
        ownerKind: "person",
        owner: "Bob@Example.com",
        scopes: ["requests:write"],
      });
      expect(forged.statusCode).toBe(403);
      expect(problemOf(forged)).toMatchObject({ code: "FOREIGN_TOKEN_OWNER" });
      expect(problemOf(forged).detail).toContain("bob@example.com obtains their own token");
    });
    // Her own approval is hers, not an approver's: refused, and the request stays pending.
    const approved = await api.call("POST", `/v1/requests/${request.id}/approve`, { token: mallory });
    expect(approved.statusCode).toBe(403);
    expect(problemOf(approved).code).toBe("NOT_AN_APPROVER");
    const after = await api.call("GET", `/v1/requests/${request.id}`, { token: mallory });
    expect(after.json<View>().state).toBe("pending");
  });

  it("a service token with tokens:admin mints service tokens within its scopes, but no person tokens", async () => {
    const provisioner = await api.token(["tokens:admin", "requests:read", "audit:read"], {
      service: true,
      name: "provisioner",
    });
    await expectNoRowChanges(api, async () => {
      const person = await mint(provisioner, {
        name: "for ann",
        ownerKind: "person",
        owner: "ann@example.com",
        scopes: ["requests:read"],
      });
      expect(person.statusCode).toBe(403);
      expect(problemOf(person).code).toBe("FOREIGN_TOKEN_OWNER");
    });
    const service = await mint(provisioner, {
      name: "grafana",
      ownerKind: "service",
      owner: "grafana",
      scopes: ["requests:read"],
    });
    expect(service.statusCode).toBe(201);
  });

  it("a person mints a narrower token for themselves; the audit says who minted what for whom", async () => {
    const ann = await api.token(["tokens:admin", "requests:write", "requests:read"], {
      owner: "ann@example.com",
      name: "ann-admin",
    });
    const created = await mint(ann, {
      name: "ann laptop",
      ownerKind: "person",
      owner: "ANN@example.com",
      scopes: ["requests:read"],
    });
    expect(created.statusCode).toBe(201);
    const minted = created.json<TokenJson>();
    expect(minted).toMatchObject({
      owner: "ann@example.com",
      ownerKind: "person",
      scopes: ["requests:read"],
    });
    const audit = await api.prisma.auditEvent.findFirstOrThrow({
      where: { action: "token.created", data: { path: ["id"], equals: minted.id } },
    });
    const annRow = await api.prisma.apiToken.findFirstOrThrow({ where: { name: "ann-admin" } });
    expect(audit).toMatchObject({ actorType: "token", actorId: annRow.id, actorLabel: "ann-admin" });
    expect(audit.data).toMatchObject({
      owner: "ann@example.com",
      ownerKind: "person",
      scopes: ["requests:read"],
      mintedBy: { kind: "token", id: annRow.id, ownerKind: "person", owner: "ann@example.com" },
    });
    expect(JSON.stringify(audit.data)).not.toContain(minted.token);
  });

  it("a minted token cannot outlive the token that minted it", async () => {
    const expiresAt = new Date(api.clock.now().getTime() + 3600_000);
    const shortLived = await api.token(["tokens:admin", "requests:read"], {
      owner: "ann@example.com",
      name: "short",
      expiresAt,
    });
    await expectNoRowChanges(api, async () => {
      for (const body of [
        { name: "forever", ownerKind: "service", owner: "x", scopes: ["requests:read"] },
        {
          name: "later",
          ownerKind: "service",
          owner: "x",
          scopes: ["requests:read"],
          expiresAt: new Date(expiresAt.getTime() + 1000).toISOString(),
        },
      ]) {
        const response = await mint(shortLived, body);
        expect(response.statusCode).toBe(400);
        expect(problemOf(response).code).toBe("EXPIRY_BEYOND_MINTER");
      }
    });
    const within = await mint(shortLived, {
      name: "within",
      ownerKind: "service",
      owner: "x",
      scopes: ["requests:read"],
      expiresAt: expiresAt.toISOString(),
    });
    expect(within.statusCode).toBe(201);
  });
});

describe("revoking tokens", () => {
  it("a tokens:admin-only token cannot revoke a broader admin token; the broader one still works", async () => {
    const narrow = await api.token(["tokens:admin"], { owner: "ann@example.com", name: "narrow" });
    const broad = await api.token(["tokens:admin", "flows:admin", "requests:read"], {
      owner: "root@example.com",
      name: "broad",
    });
    const broadRow = await api.prisma.apiToken.findFirstOrThrow({ where: { name: "broad" } });
    await expectNoRowChanges(api, async () => {
      const response = await api.call("DELETE", `/v1/tokens/${broadRow.id}`, { token: narrow });
      expect(response.statusCode).toBe(403);
      const problem = problemOf(response);
      expect(problem.code).toBe("TOKEN_BEYOND_REACH");
      expect(problem.detail).toContain("flows:admin");
    });
    expect((await api.call("GET", "/v1/flows", { token: broad })).statusCode).toBe(200);
    expect(
      (await api.prisma.apiToken.findUniqueOrThrow({ where: { id: broadRow.id } })).revokedAt,
    ).toBeNull();
  });

  it("a token revokes tokens within its scopes, any token revokes itself, and nothing else", async () => {
    const admin = await api.token(["tokens:admin", "requests:read"], { owner: "ann@example.com", name: "a" });
    const reader = await api.token(["requests:read"], { owner: "rita@example.com", name: "rita-reader" });
    const other = await api.token(["requests:read"], { owner: "carl@example.com", name: "carl-reader" });
    const idOf = async (name: string) => (await api.prisma.apiToken.findFirstOrThrow({ where: { name } })).id;

    // Without tokens:admin: not someone else's token...
    await expectNoRowChanges(api, async () => {
      const response = await api.call("DELETE", `/v1/tokens/${await idOf("carl-reader")}`, { token: reader });
      expect(response.statusCode).toBe(403);
      expect(problemOf(response).code).toBe("TOKEN_BEYOND_REACH");
    });
    // ...but its own, which then stops working.
    const self = await api.call("DELETE", `/v1/tokens/${await idOf("rita-reader")}`, { token: reader });
    expect(self.statusCode).toBe(200);
    expect((await api.call("GET", "/v1/requests", { token: reader })).statusCode).toBe(401);

    // With tokens:admin and every scope of the other: allowed, audited with who revoked it.
    const revoked = await api.call("DELETE", `/v1/tokens/${await idOf("carl-reader")}`, { token: admin });
    expect(revoked.statusCode).toBe(200);
    expect((await api.call("GET", "/v1/requests", { token: other })).statusCode).toBe(401);
    const audit = await api.prisma.auditEvent.findFirstOrThrow({
      where: { action: "token.revoked", data: { path: ["id"], equals: await idOf("carl-reader") } },
    });
    expect(audit).toMatchObject({ actorType: "token", actorId: await idOf("a") });
    expect(audit.data).toMatchObject({ owner: "carl@example.com", scopes: ["requests:read"] });
  });
});

describe("filing requests for someone else (requesterEmail)", () => {
  it("requests:write files only for its own person; naming anyone else needs requests:on-behalf", async () => {
    const rita = await api.token(["requests:write"], { owner: "rita@example.com", name: "rita" });
    await expectNoRowChanges(api, async () => {
      const response = await api.call("POST", "/v1/requests", {
        token: rita,
        body: { flow: "s3-prod", requesterEmail: "carl@example.com", reason: "for carl" },
      });
      expect(response.statusCode).toBe(403);
      const problem = problemOf(response);
      expect(problem.code).toBe("INSUFFICIENT_SCOPE");
      expect(problem.detail).toContain("requests:on-behalf");
    });
    // Her own, by default or by naming herself: source api.
    for (const body of [
      { flow: "s3-prod", reason: "mine" },
      { flow: "s3-prod", requesterEmail: "Rita@Example.com", reason: "mine" },
    ]) {
      const own = await api.call("POST", "/v1/requests", { token: rita, body });
      expect(own.statusCode).toBe(201);
      expect(own.json<View>()).toMatchObject({ requester: { email: "rita@example.com" }, source: "api" });
    }
  });

  it("an integration token files on someone's behalf: source integration, the token in the audit trail", async () => {
    const jira = await api.token(["requests:on-behalf"], { service: true, name: "jira" });
    const jiraRow = await api.prisma.apiToken.findFirstOrThrow({ where: { name: "jira" } });
    const filed = await api.call("POST", "/v1/requests", {
      token: jira,
      body: { flow: "s3-prod", requesterEmail: "carl@example.com", reason: "OPS-1 from the ticket" },
    });
    expect(filed.statusCode).toBe(201);
    const view = filed.json<View>();
    expect(view).toMatchObject({ requester: { email: "carl@example.com" }, source: "integration" });
    const submitted = await api.prisma.auditEvent.findFirstOrThrow({
      where: { requestId: view.id, action: "request.submitted" },
    });
    expect(submitted).toMatchObject({ actorType: "token", actorId: jiraRow.id, actorLabel: "jira" });
    expect(submitted.data).toMatchObject({ source: "integration" });

    // It cannot decide what it filed, nor file without naming someone.
    await expectNoRowChanges(api, async () => {
      const approve = await api.call("POST", `/v1/requests/${view.id}/approve`, { token: jira });
      expect(approve.statusCode).toBe(403);
      expect(problemOf(approve).code).toBe("INSUFFICIENT_SCOPE");
      const anonymous = await api.call("POST", "/v1/requests", {
        token: jira,
        body: { flow: "s3-prod", reason: "who?" },
      });
      expect(anonymous.statusCode).toBe(400);
      expect(problemOf(anonymous).errors?.map((e) => e.path)).toEqual(["body.requesterEmail"]);
    });
  });
});
