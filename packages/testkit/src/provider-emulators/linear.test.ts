import { createHmac } from "node:crypto";
import { LinearClient, LinearErrorType } from "@linear/sdk";
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LinearEmulator, startLinearEmulator } from "./linear.js";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

// The emulator through @linear/sdk 98.0.0, pointed at loopback with `apiUrl` (the SDK allows
// plain HTTP to 127.0.0.1/localhost only). Queries go through the SDK's own GraphQL client
// (`client.client.rawRequest`), asking for exactly the fields the ticket check reads.

const ISSUE_QUERY = `
  query TicketLookup($id: String!) {
    issue(id: $id) {
      id identifier title url
      state { name type }
      team { key }
      assignee { email }
    }
  }`;

let linear: LinearEmulator;

function client(apiKey = linear.apiKey): LinearClient {
  return new LinearClient({ apiKey, apiUrl: linear.apiUrl });
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ type: string; status?: number; message: string }> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error as { type: string; status?: number; message: string },
  );
}

beforeEach(async () => {
  // The SDK's webhook verifier checks webhookTimestamp against the real clock.
  linear = await startLinearEmulator({ now: Date.now });
  linear.addTeam("ENG", "Engineering");
  linear.addTeam("HR", "People");
  linear.addUser({ name: "Alice Example", email: "alice@example.com" });
});

afterEach(async () => {
  await linear.close();
});

describe("issue(id:)", () => {
  it("answers an issue by identifier with its state type, team key and assignee email", async () => {
    linear.createIssue({ teamKey: "ENG", title: "Fix the prod outage", assigneeEmail: "alice@example.com" });
    const answer = await client().client.rawRequest(ISSUE_QUERY, { id: "ENG-1" });
    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({
      issue: {
        id: expect.any(String),
        identifier: "ENG-1",
        title: "Fix the prod outage",
        url: "https://linear.app/keyturn-test/issue/ENG-1",
        state: { name: "Todo", type: "unstarted" },
        team: { key: "ENG" },
        assignee: { email: "alice@example.com" },
      },
    });
    const [call] = linear.calls("issue");
    expect(call?.headers.authorization).toBe(linear.apiKey);
    expect(answer.headers?.get("x-ratelimit-requests-remaining")).toBe("4999");
  });

  it("finds an issue by UUID or a lower-case identifier, and reports every Linear state type", async () => {
    const created = linear.createIssue({ teamKey: "ENG", title: "One" });
    const read = async (id: string) =>
      (
        (await client().client.rawRequest(ISSUE_QUERY, { id })).data as {
          issue: { identifier: string; state: { type: string } };
        }
      ).issue;
    expect((await read(created.id)).identifier).toBe("ENG-1");
    expect((await read("eng-1")).identifier).toBe("ENG-1");
    const types: string[] = [];
    for (const state of ["Triage", "Backlog", "Todo", "In Progress", "Done", "Canceled", "Duplicate"]) {
      await linear.moveIssue("ENG-1", state);
      types.push((await read("ENG-1")).state.type);
    }
    expect(types).toEqual(["triage", "backlog", "unstarted", "started", "completed", "canceled", "canceled"]);
  });

  it("reports a missing issue, and one in a team the key cannot see, as an invalid-input error", async () => {
    linear.createIssue({ teamKey: "HR", title: "Salaries" });
    linear.addApiKey({ key: "lin_api_eng_only", userEmail: "eng-bot@example.com", teamKeys: ["ENG"] });
    for (const [key, id] of [
      [linear.apiKey, "ENG-404"],
      ["lin_api_eng_only", "HR-1"],
    ] as const) {
      const error = await failure(client(key).client.rawRequest(ISSUE_QUERY, { id }));
      expect(error.type).toBe(LinearErrorType.InvalidInput);
      expect(error.message).toContain("Could not find referenced Issue.");
    }
  });

  it("rejects a query for fields Linear's schema does not have, as GraphQL validation does", async () => {
    const error = await failure(client().client.rawRequest('query { issue(id: "ENG-1") { secretField } }'));
    expect(error.type).toBe(LinearErrorType.GraphqlError);
    expect(error.status).toBe(400);
  });
});

describe("auth and viewer", () => {
  it("answers viewer for the key's owner, also with an OAuth Bearer token", async () => {
    const viewer = (await client().client.rawRequest("query { viewer { id email name } }")).data as {
      viewer: { email: string };
    };
    expect(viewer.viewer.email).toBe("keyturn-bot@example.com");
    const oauth = new LinearClient({ accessToken: linear.apiKey, apiUrl: linear.apiUrl });
    expect(
      ((await oauth.client.rawRequest("query { viewer { email } }")).data as typeof viewer).viewer.email,
    ).toBe("keyturn-bot@example.com");
  });

  it("answers an authentication error for a wrong or revoked key", async () => {
    const wrong = await failure(client("lin_api_wrong").client.rawRequest("query { viewer { id } }"));
    expect(wrong.type).toBe(LinearErrorType.AuthenticationError);
    linear.addApiKey({ key: "lin_api_soon_gone", userEmail: "bot2@example.com" });
    linear.revokeApiKey("lin_api_soon_gone");
    const revoked = await failure(client("lin_api_soon_gone").client.rawRequest("query { viewer { id } }"));
    expect(revoked.type).toBe(LinearErrorType.AuthenticationError);
  });
});

describe("webhooks", () => {
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });

  afterEach(async () => {
    await receiver.close();
  });

  it("signs Issue updates as Linear documents, which the SDK's own verifier accepts", async () => {
    linear.subscribeWebhook({ url: receiver.url, secret: "lin_wh_secret" });
    const issue = linear.createIssue({ teamKey: "ENG", title: "Deploy" });
    const [delivery] = await linear.moveIssue("ENG-1", "Done");
    expect(delivery?.outcome).toBe(200);
    const [received] = receiver.received;
    const raw = received?.body ?? Buffer.alloc(0);
    expect(received?.headers["linear-signature"]).toBe(
      createHmac("sha256", "lin_wh_secret").update(raw).digest("hex"),
    );
    expect(received?.headers["linear-event"]).toBe("Issue");
    const payload = new LinearWebhookClient("lin_wh_secret").parseData(
      raw,
      received?.headers["linear-signature"] ?? "",
    );
    expect(payload).toMatchObject({
      action: "update",
      type: "Issue",
      data: {
        id: issue.id,
        identifier: "ENG-1",
        state: { type: "completed", name: "Done" },
        team: { key: "ENG" },
      },
      updatedFrom: { stateId: expect.any(String) },
      webhookTimestamp: expect.any(Number),
    });
    expect(() =>
      new LinearWebhookClient("another-secret").parseData(raw, received?.headers["linear-signature"] ?? ""),
    ).toThrow();
  });

  it("sends remove for a deleted issue, loses dropped deliveries, and restamps a retry", async () => {
    linear.subscribeWebhook({ url: receiver.url, secret: "lin_wh_secret" });
    linear.createIssue({ teamKey: "ENG", title: "Deploy" });
    linear.dropNextWebhooks(1);
    const [lost] = await linear.moveIssue("ENG-1", "In Progress");
    expect(lost?.outcome).toBe("dropped");
    expect(receiver.received).toHaveLength(0);

    await linear.deleteIssue("ENG-1");
    const first = receiver.received[0];
    expect(JSON.parse(first?.body.toString("utf8") ?? "{}")).toMatchObject({
      action: "remove",
      type: "Issue",
    });
    const retry = await linear.redeliverWebhook(first?.headers["linear-delivery"] ?? "");
    expect(retry.outcome).toBe(200);
    const second = receiver.received[1];
    expect(second?.headers["linear-delivery"]).toBe(first?.headers["linear-delivery"]);
    expect(() =>
      new LinearWebhookClient("lin_wh_secret").parseData(
        second?.body ?? Buffer.alloc(0),
        second?.headers["linear-signature"] ?? "",
      ),
    ).not.toThrow();
  });
});

describe("faults", () => {
  it("reports rate limiting as RATELIMITED with Linear's headers, which the SDK types as Ratelimited", async () => {
    linear.failNext("issue", { kind: "rate-limit", retryAfterSeconds: 30 });
    const error = (await failure(client().client.rawRequest(ISSUE_QUERY, { id: "ENG-1" }))) as {
      type: string;
      requestsRemaining?: number;
    };
    expect(error.type).toBe(LinearErrorType.Ratelimited);
    expect(error.requestsRemaining).toBe(0);
  });

  it("answers 500 as a GraphQL internal error and 503 as a gateway page", async () => {
    linear.failNext("*", { kind: "server-error", status: 500 });
    expect((await failure(client().client.rawRequest("query { viewer { id } }"))).type).toBe(
      LinearErrorType.InternalError,
    );
    linear.failNext("*", { kind: "server-error", status: 503 });
    const gateway = await failure(client().client.rawRequest("query { viewer { id } }"));
    expect(gateway.type).toBe(LinearErrorType.NetworkError);
    expect(gateway.status).toBe(503);
  });

  it("sends malformed JSON and cut-off answers, which the SDK rejects", async () => {
    linear.failNext("viewer", { kind: "malformed" });
    await expect(client().client.rawRequest("query { viewer { id } }")).rejects.toThrow();
    linear.failNext("viewer", { kind: "truncated" });
    await expect(client().client.rawRequest("query { viewer { id } }")).rejects.toThrow();
  });

  it("keys faults by the query's root field", async () => {
    linear.createIssue({ teamKey: "ENG", title: "One" });
    linear.failNext("viewer", { kind: "server-error" });
    expect((await client().client.rawRequest(ISSUE_QUERY, { id: "ENG-1" })).status).toBe(200);
    await expect(client().client.rawRequest("query { viewer { id } }")).rejects.toThrow();
  });
});
