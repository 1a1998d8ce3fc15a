import type { AddressInfo } from "node:net";
import { createLinearTickets } from "@keyturn/integrations";
import { useTestDatabase } from "@keyturn/testkit/database";
import { type LinearEmulator, startLinearEmulator } from "@keyturn/testkit/provider-emulators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, flowRules, type TestApi } from "./test-support.js";

// Access bound to a Linear issue: checked by @linear/sdk against the Linear emulator, ended by
// Linear's signed Issue webhook delivered over HTTP to the listening API.

const SECRET = "lin_wh_keyturn_test_signing_secret";
const database = useTestDatabase();
let api: TestApi;
let linear: LinearEmulator;
let writer = "";

beforeAll(async () => {
  linear = await startLinearEmulator();
  linear.addTeam("ENG");
  linear.addTeam("OPS");
  linear.createIssue({ teamKey: "ENG", title: "Migrate the orders table", state: "In Progress" }); // ENG-1
  linear.createIssue({ teamKey: "OPS", title: "Elsewhere", state: "In Progress" }); // OPS-1
  api = await createTestApi(database.url, {
    integrations: {
      onCall: {},
      tickets: { linear: createLinearTickets({ apiKey: linear.apiKey, apiUrl: linear.apiUrl }) },
    },
    webhookSecrets: { linear: SECRET },
  });
  await api.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = api.app.server.address() as AddressInfo;
  linear.subscribeWebhook({ url: `http://127.0.0.1:${port}/v1/webhooks/linear`, secret: SECRET });
  const admin = await api.token(["flows:admin"]);
  writer = await api.token(["requests:write"], { owner: "rita@example.com" });
  const put = await api.call("PUT", "/v1/flows/eng", {
    token: admin,
    body: flowRules({
      autoApprove: true,
      approvers: [],
      ticket: { required: true, check: { provider: "linear", projects: ["ENG"] } },
    }),
  });
  expect(put.statusCode).toBe(201);
});

afterAll(async () => {
  await api?.close();
  await linear?.close();
});

describe("a Linear-bound request", () => {
  it("is refused for another team's issue, with the reason", async () => {
    const response = await api.call("POST", "/v1/requests", {
      token: writer,
      body: { flow: "eng", reason: "migrate", ticket: "OPS-1" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: "TICKET_REJECTED",
      detail: expect.stringContaining("is in team OPS"),
    });
  });

  it("ends when the issue is completed: a bad signature first changes nothing", async () => {
    const created = await api.call("POST", "/v1/requests", {
      token: writer,
      body: { flow: "eng", reason: "migrate", ticket: "ENG-1" },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;

    linear.dropNextWebhooks(1);
    await linear.moveIssue("ENG-1", "Done");
    const lost = linear.webhookDeliveries().at(-1);
    expect(lost?.outcome).toBe("dropped");
    const before = await api.counts();
    const forged = await fetch(lost?.url ?? "", {
      method: "POST",
      headers: { ...lost?.headers, "linear-signature": "f".repeat(64) },
      body: lost?.body ?? "",
    });
    expect(forged.status).toBe(401);
    expect(await api.counts()).toEqual(before);
    expect((await api.prisma.accessRequest.findUniqueOrThrow({ where: { id } })).status).toBe("approved");

    const retried = await linear.redeliverWebhook(lost?.deliveryId ?? "");
    expect(retried.outcome).toBe(200);
    expect(await api.prisma.accessRequest.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "revoked",
      endReason: "ended: ticket ENG-1 closed (Done)",
    });
  });
});
