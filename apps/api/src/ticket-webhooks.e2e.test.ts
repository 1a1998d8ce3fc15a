import type { AddressInfo } from "node:net";
import { createIdentityCenter } from "@keyturn/aws";
import { createAssignmentClaims } from "@keyturn/db";
import { createJiraTickets, createPagerDutyOnCall } from "@keyturn/integrations";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  type JiraEmulator,
  type PagerDutyEmulator,
  startJiraEmulator,
  startPagerDutyEmulator,
} from "@keyturn/testkit/provider-emulators";
import { reconcileAssignment } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, flowRules, type TestApi } from "./test-support.js";

// Ticket-bound access through the API: the ticket checked by jira.js against the Jira emulator
// when the request is made, and Jira's own signed webhook deliveries (over HTTP, to the listening
// API) ending the access when the ticket closes.

const SECRET = "jira-webhook-secret-for-keyturn";
const database = useTestDatabase();
let api: TestApi;
let jira: JiraEmulator;
let pd: PagerDutyEmulator;
let admin = "";
let writer = "";
let reader = "";

beforeAll(async () => {
  jira = await startJiraEmulator();
  pd = await startPagerDutyEmulator();
  jira.addProject("OPS");
  jira.addStatus({ name: "In Progress", category: "indeterminate" });
  jira.addStatus({ name: "Done", category: "done" });
  jira.createIssue({ projectKey: "OPS", summary: "Rotate the TLS keys", status: "In Progress" }); // OPS-1
  jira.createIssue({ projectKey: "OPS", summary: "Already done", status: "Done" }); // OPS-2
  api = await createTestApi(database.url, {
    integrations: {
      onCall: { pagerduty: createPagerDutyOnCall({ token: pd.token, baseUrl: pd.url }) },
      tickets: { jira: createJiraTickets({ siteUrl: jira.url, ...jira.credentials }) },
    },
    webhookSecrets: { jira: SECRET },
  });
  await api.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = api.app.server.address() as AddressInfo;
  jira.subscribeWebhook({ url: `http://127.0.0.1:${port}/v1/webhooks/jira`, secret: SECRET });
  admin = await api.token(["flows:admin"]);
  writer = await api.token(["requests:write"], { owner: "rita@example.com" });
  reader = await api.token(["requests:read"]);
  const put = await api.call("PUT", "/v1/flows/change", {
    token: admin,
    body: flowRules({
      autoApprove: true,
      approvers: [],
      ticket: { required: true, check: { provider: "jira", projects: ["OPS"] } },
    }),
  });
  expect(put.statusCode).toBe(201);
});

afterAll(async () => {
  await api?.close();
  await jira?.close();
  await pd?.close();
});

describe("flows naming providers", () => {
  it("refuses a flow naming a provider this Keyturn has not set up", async () => {
    const put = await api.call("PUT", "/v1/flows/linear-bound", {
      token: admin,
      body: flowRules({ ticket: { required: true, check: { provider: "linear" } } }),
    });
    expect(put.statusCode).toBe(400);
    expect(put.json()).toMatchObject({
      code: "INVALID_FLOW",
      detail: expect.stringContaining("linear is not configured"),
    });
  });

  it("accepts on-call approval with PagerDuty set up, and checks its rule", async () => {
    const good = await api.call("PUT", "/v1/flows/on-call", {
      token: admin,
      body: flowRules({
        onCallApproval: { provider: "pagerduty", schedules: ["PSCHED1"], escalationPolicies: [] },
      }),
    });
    expect(good.statusCode).toBe(201);
    const bad = await api.call("PUT", "/v1/flows/on-call-bad", {
      token: admin,
      body: flowRules({ onCallApproval: { provider: "pagerduty", schedules: [], escalationPolicies: [] } }),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain("onCallApproval.schedules");
  });
});

describe("a ticket checked at request time", () => {
  it("refuses a closed ticket with the reason, writing nothing", async () => {
    const before = await api.counts();
    const response = await api.call("POST", "/v1/requests", {
      token: writer,
      body: { flow: "change", reason: "rotate", ticket: "OPS-2" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "TICKET_REJECTED", detail: "OPS-2 is closed (Done)." });
    expect(await api.counts()).toEqual(before);
  });

  it("links a valid ticket and shows it in the request's representation", async () => {
    const response = await api.call("POST", "/v1/requests", {
      token: writer,
      body: { flow: "change", reason: "rotate", ticket: "ops-1" },
    });
    expect(response.statusCode).toBe(201);
    const read = await api.call("GET", `/v1/requests/${response.json().id}`, { token: reader });
    expect(read.json()).toMatchObject({
      ticket: "OPS-1",
      linkedTicket: { provider: "jira", key: "OPS-1", title: "Rotate the TLS keys", state: "In Progress" },
    });
  });
});

describe("POST /v1/webhooks/jira", () => {
  it("a bad signature changes nothing (401); Jira's genuine delivery ends the access, once", async () => {
    const created = await api.call("POST", "/v1/requests", {
      token: writer,
      body: { flow: "change", reason: "rotate", ticket: "OPS-1" },
    });
    const ids = [created.json().id as string];
    // Both requests bound to OPS-1 (this one and the one of the test above) are approved.
    const open = await api.prisma.accessRequest.findMany({ where: { ticket: "OPS-1", status: "approved" } });
    expect(open.length).toBeGreaterThanOrEqual(1);

    // The close is not delivered; a forger posts its body with a signature of their own.
    jira.dropNextWebhooks(1);
    await jira.transitionIssue("OPS-1", "Done");
    const lost = jira.webhookDeliveries().at(-1);
    expect(lost?.outcome).toBe("dropped");
    const before = await api.counts();
    const forged = await fetch(lost?.url ?? "", {
      method: "POST",
      headers: { ...lost?.headers, "x-hub-signature": `sha256=${"0".repeat(64)}` },
      body: lost?.body ?? "",
    });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(lost?.url ?? "", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: lost?.body ?? "",
    });
    expect(unsigned.status).toBe(401);
    expect(await api.counts()).toEqual(before);

    // Jira's retry of the same delivery, genuinely signed: every access bound to OPS-1 ends.
    const retried = await jira.redeliverWebhook(lost?.deliveryId ?? "");
    expect(retried.outcome).toBe(200);
    for (const id of [...ids, ...open.map((r) => r.id)]) {
      const request = await api.prisma.accessRequest.findUniqueOrThrow({ where: { id } });
      expect(request).toMatchObject({ status: "revoked", endReason: "ended: ticket OPS-1 closed (Done)" });
      const lease = await api.prisma.lease.findUniqueOrThrow({ where: { requestId: id } });
      expect(lease.releasedAt).not.toBeNull();
      // The reconciler is asked to remove the assignment, and the sessions are cut off.
      const reconcile = await api.prisma.outboxMessage.findMany({ where: { topic: "assignment.reconcile" } });
      const payloads = reconcile.map((m) => m.payload as { requestId?: string; cause?: string });
      expect(payloads).toContainEqual(expect.objectContaining({ requestId: id, cause: "released" }));
      const audit = await api.prisma.auditEvent.findMany({
        where: { requestId: id, action: "request.revoked" },
      });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actorType: "system" });
    }

    // A further retry ends nothing more.
    const revoked = await api.prisma.auditEvent.count({ where: { action: "request.revoked" } });
    const again = await jira.redeliverWebhook(lost?.deliveryId ?? "");
    expect(again.outcome).toBe(200);
    expect(await api.prisma.auditEvent.count({ where: { action: "request.revoked" } })).toBe(revoked);
  });

  it("answers 404 for a provider without a secret", async () => {
    const response = await api.call("POST", "/v1/webhooks/linear", { body: { type: "Issue" } });
    expect(response.statusCode).toBe(404);
  });
});

describe("closing the ticket, in AWS", () => {
  let emulator: AwsEmulator;
  beforeAll(async () => {
    emulator = await startAwsEmulator({ assignmentDelayMs: 20 });
    emulator.seed(standardSeed());
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("the webhook ends the access, and one reconcile removes the assignment", async () => {
    const identityCenter = createIdentityCenter({
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "x" },
      pollIntervalMs: 20,
    });
    const claims = createAssignmentClaims({ databaseUrl: database.url });
    const reconcile = async (assignmentId: string) => {
      // One reconcile job: it runs again while AWS is still carrying the change out.
      for (let run = 0; run < 40; run++) {
        const result = await reconcileAssignment(
          { ...api.usecases, identityCenter, claims },
          { assignmentId },
        );
        if (!result.ok) {
          throw new Error(result.error.message);
        }
        if (result.value.outcome !== "pending" && result.value.outcome !== "busy") {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, result.value.retryAfterMs ?? 50));
      }
      throw new Error("the reconcile did not settle");
    };
    try {
      jira.createIssue({ projectKey: "OPS", summary: "Hotfix", status: "In Progress" }); // OPS-3
      const alice = await api.token(["requests:write"], { owner: "alice@example.com" });
      const created = await api.call("POST", "/v1/requests", {
        token: alice,
        body: { flow: "change", reason: "hotfix", ticket: "OPS-3" },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as string;
      const lease = await api.prisma.lease.findUniqueOrThrow({ where: { requestId: id } });
      await reconcile(lease.assignmentId);
      const present = () =>
        emulator.assignments().some((a) => a.principalType === "USER" && a.accountId === "111122223333");
      expect(present()).toBe(true);
      expect((await api.prisma.accessRequest.findUniqueOrThrow({ where: { id } })).status).toBe("active");

      const [delivery] = await jira.transitionIssue("OPS-3", "Done");
      expect(delivery?.outcome).toBe(200);
      expect((await api.prisma.accessRequest.findUniqueOrThrow({ where: { id } })).status).toBe("revoked");
      await reconcile(lease.assignmentId);
      expect(present()).toBe(false);
    } finally {
      await claims.close();
      identityCenter.close();
    }
  });
});
