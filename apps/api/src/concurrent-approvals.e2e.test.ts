import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, flowRules, type TestApi } from "./test-support.js";

const database = useTestDatabase();
let api: TestApi;
let baseUrl: string;

beforeAll(async () => {
  // One connection per concurrent approval, so all 20 transactions really race for the row lock.
  api = await createTestApi(database.url, { maxConnections: 22 });
  // Real sockets, so the 20 calls really overlap inside the server and the database.
  baseUrl = await api.app.listen({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await api.close();
});

const APPROVERS = Array.from({ length: 20 }, (_, i) => `approver${i}@example.com`);

describe("20 concurrent approvals of one pending request", () => {
  it("yield one 200, nineteen 409 ALREADY_DECIDED, one transition, one lease, one audit event", async () => {
    const admin = await api.token(["flows:admin"]);
    const rules = flowRules({ approvers: APPROVERS.map((email) => ({ kind: "email" as const, email })) });
    expect((await api.call("PUT", "/v1/flows/race", { token: admin, body: rules })).statusCode).toBe(201);
    const writer = await api.token(["requests:write"], { owner: "rita@example.com" });
    const created = await api.call("POST", "/v1/requests", {
      token: writer,
      body: { flow: "race", requesterEmail: "rita@example.com", reason: "race" },
    });
    const id = created.json<{ id: string }>().id;
    const approverTokens = await Promise.all(
      APPROVERS.map((owner) => api.token(["requests:write"], { owner, name: owner })),
    );

    const responses = await Promise.all(
      approverTokens.map(async (token) => {
        const response = await fetch(`${baseUrl}/v1/requests/${id}/approve`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: "{}",
        });
        return {
          status: response.status,
          body: (await response.json()) as { code?: string; detail?: string },
        };
      }),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const conflicts = responses.filter((r) => r.status === 409);
    expect(conflicts.every((r) => r.body.code === "ALREADY_DECIDED")).toBe(true);
    expect(conflicts[0]?.body.detail).toMatch(/^request is already approved by approver\d+@example\.com$/);

    const request = await api.prisma.accessRequest.findUniqueOrThrow({ where: { id } });
    expect(request.status).toBe("approved");
    expect(await api.prisma.lease.count({ where: { requestId: id } })).toBe(1);
    expect(await api.prisma.review.count({ where: { requestId: id } })).toBe(1);
    expect(await api.prisma.auditEvent.count({ where: { requestId: id, action: "request.approved" } })).toBe(
      1,
    );
  });
});
