import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSlackFake } from "./server.js";
import { createSlackClient, type SignedSlackClient } from "./signed-client.js";
import { button, callApi, modal, section } from "./test-support.js";
import type { SlackFake, SlackView } from "./types.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

type Verdict = "ok" | "bad_signature" | "stale" | "missing";
type Received = { path: string; headers: IncomingHttpHeaders; raw: Buffer; verdict: Verdict };

/**
 * Slack's documented check, written out independently of the client: HMAC-SHA256 over
 * `v0:<timestamp>:<raw body>`, compared in constant time, timestamp within five minutes.
 */
function verify(headers: IncomingHttpHeaders, raw: Buffer): Verdict {
  const timestamp = headers["x-slack-request-timestamp"];
  const signature = headers["x-slack-signature"];
  if (typeof timestamp !== "string" || typeof signature !== "string") {
    return "missing";
  }
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 60 * 5) {
    return "stale";
  }
  const expected = Buffer.from(
    `v0=${createHmac("sha256", SECRET).update(`v0:${timestamp}:`).update(raw).digest("hex")}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? "ok" : "bad_signature";
}

let receiver: Server;
let appUrl: string;
let received: Received[];
let fake: SlackFake;
let client: SignedSlackClient;

beforeEach(async () => {
  received = [];
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const verdict = verify(req.headers, raw);
      received.push({ path: req.url ?? "", headers: req.headers, raw, verdict });
      res.writeHead(verdict === "ok" ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify({ verdict }));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  fake = await startSlackFake({ teamId: "T0TEST" });
  fake.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  fake.addUser({ id: "U0BOB", name: "bob", email: "bob@example.com" });
  fake.addChannel({ id: "C0APPROVALS", name: "access-approvals" });
  client = createSlackClient({ appUrl, signingSecret: SECRET, fake });
});

afterEach(async () => {
  await fake.close();
  await new Promise<void>((resolve, reject) => {
    receiver.close((error) => (error === undefined ? resolve() : reject(error)));
    receiver.closeAllConnections();
  });
});

function only(): Received {
  expect(received).toHaveLength(1);
  return received[0]!;
}

function payloadOf(request: Received): Record<string, unknown> {
  return JSON.parse(new URLSearchParams(request.raw.toString("utf8")).get("payload") ?? "null") as Record<
    string,
    unknown
  >;
}

describe("slash commands", () => {
  it("sends Slack's form fields, signed, to /slack/events", async () => {
    const delivery = await client.slashCommand({
      command: "/access",
      text: "s3-prod 2h fix prod",
      userId: "U0ALICE",
    });
    const request = only();
    expect(request.path).toBe("/slack/events");
    expect(request.verdict).toBe("ok");
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request.headers["x-slack-request-timestamp"]).toMatch(/^\d{10}$/);
    expect(request.headers["x-slack-signature"]).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(request.headers["x-slack-retry-num"]).toBeUndefined();
    const form = Object.fromEntries(new URLSearchParams(request.raw.toString("utf8")));
    expect(Object.keys(form)).toEqual([
      "token",
      "team_id",
      "team_domain",
      "channel_id",
      "channel_name",
      "user_id",
      "user_name",
      "command",
      "text",
      "api_app_id",
      "is_enterprise_install",
      "response_url",
      "trigger_id",
    ]);
    expect(form).toMatchObject({
      team_id: "T0TEST",
      team_domain: "keyturn",
      channel_id: fake.dmChannelId("U0ALICE"),
      channel_name: "directmessage",
      user_id: "U0ALICE",
      user_name: "alice",
      command: "/access",
      text: "s3-prod 2h fix prod",
      api_app_id: fake.appId,
    });
    expect(form.response_url?.startsWith(`${fake.origin}/hooks/commands/T0TEST/`)).toBe(true);
    expect(delivery).toMatchObject({ status: 200, json: { verdict: "ok" }, body: '{"verdict":"ok"}' });
    expect(delivery.headers["content-type"]).toBe("application/json");
    expect(delivery.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("carries a trigger id the fake accepts once for views.open", async () => {
    await client.slashCommand({ command: "/access", userId: "U0ALICE", channelId: "C0APPROVALS" });
    const form = new URLSearchParams(only().raw.toString("utf8"));
    expect(form.get("channel_name")).toBe("access-approvals");
    const trigger = form.get("trigger_id") ?? "";
    const opened = await callApi(fake, "views.open", { trigger_id: trigger, view: modal() });
    expect(opened.body.ok).toBe(true);
    expect(fake.views("U0ALICE")).toHaveLength(1);
    expect((await callApi(fake, "views.open", { trigger_id: trigger, view: modal() })).body.error).toBe(
      "exchanged_trigger_id",
    );
  });

  it("uses the configured path, per client or per request", async () => {
    const custom = createSlackClient({ appUrl, signingSecret: SECRET, fake, path: "/slack/commands" });
    await custom.slashCommand({ command: "/access", userId: "U0ALICE" });
    await custom.slashCommand({ command: "/access", userId: "U0ALICE" }, { path: "/other" });
    expect(received.map((r) => [r.path, r.verdict])).toEqual([
      ["/slack/commands", "ok"],
      ["/other", "ok"],
    ]);
  });
});

describe("signatures", () => {
  it("does not verify with another secret or a tampered body", async () => {
    const wrongSecret = createSlackClient({ appUrl, signingSecret: "not-the-secret", fake });
    await wrongSecret.slashCommand({ command: "/access", userId: "U0ALICE" });
    const good = await client.slashCommand({ command: "/access", text: "1h", userId: "U0ALICE" });
    await client.replay({ ...good.request, body: good.request.body.replace("text=1h", "text=9h") });
    expect(received.map((r) => r.verdict)).toEqual(["bad_signature", "ok", "bad_signature"]);
  });

  it("sends the stale timestamp asked for, correctly signed for it", async () => {
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const delivery = await client.slashCommand(
      { command: "/access", userId: "U0ALICE" },
      { timestamp: sixMinutesAgo },
    );
    const request = only();
    expect(request.headers["x-slack-request-timestamp"]).toBe(String(sixMinutesAgo));
    expect(request.verdict).toBe("stale");
    expect(delivery.status).toBe(401);
    const recomputed = `v0=${createHmac("sha256", SECRET).update(`v0:${sixMinutesAgo}:${request.raw}`).digest("hex")}`;
    expect(request.headers["x-slack-signature"]).toBe(recomputed);
  });

  it("takes the clock from `now`", async () => {
    const past = createSlackClient({
      appUrl,
      signingSecret: SECRET,
      fake,
      now: () => Date.now() - 10 * 60_000,
    });
    await past.slashCommand({ command: "/access", userId: "U0ALICE" });
    expect(only().verdict).toBe("stale");
  });

  it("sends a given signature, or none", async () => {
    await client.slashCommand(
      { command: "/access", userId: "U0ALICE" },
      { signature: `v0=${"0".repeat(64)}` },
    );
    await client.slashCommand({ command: "/access", userId: "U0ALICE" }, { signature: null });
    expect(received.map((r) => [r.headers["x-slack-signature"], r.verdict])).toEqual([
      [`v0=${"0".repeat(64)}`, "bad_signature"],
      [undefined, "missing"],
    ]);
  });

  it("sets Slack's retry headers", async () => {
    await client.blockAction(
      { userId: "U0ALICE", actionId: "approve", channelId: "C0APPROVALS" },
      { retryNum: 2, retryReason: "http_timeout" },
    );
    const { headers, verdict } = only();
    expect([headers["x-slack-retry-num"], headers["x-slack-retry-reason"], verdict]).toEqual([
      "2",
      "http_timeout",
      "ok",
    ]);
  });

  it("replays a request byte for byte with its original headers", async () => {
    const first = await client.viewSubmission(
      { userId: "U0ALICE", view: { callback_id: "access_request", state: { values: {} } } },
      { retryNum: 1, retryReason: "timeout" },
    );
    const again = await client.replay(first);
    expect(again.request).toBe(first.request);
    expect(received).toHaveLength(2);
    const [original, replayed] = received as [Received, Received];
    expect(replayed.raw.equals(original.raw)).toBe(true);
    const signed = [
      "content-type",
      "content-length",
      "user-agent",
      "x-slack-request-timestamp",
      "x-slack-signature",
      "x-slack-retry-num",
      "x-slack-retry-reason",
    ];
    for (const name of signed) {
      expect(replayed.headers[name], name).toBe(original.headers[name]);
    }
    expect(replayed.verdict).toBe("ok");
  });

  it("returns the fetch Response when raw, and remembers the request for replay", async () => {
    const response = await client.slashCommand({ command: "/access", userId: "U0ALICE" }, { raw: true });
    expect(response).toBeInstanceOf(Response);
    expect(await response.json()).toEqual({ verdict: "ok" });
    const last = client.lastRequest();
    expect(last?.url).toBe(`${appUrl}/slack/events`);
    const replayed = await client.replay(last!, { raw: true });
    expect(replayed.status).toBe(200);
    expect(received[1]?.raw.equals(received[0]!.raw)).toBe(true);
  });
});

describe("block actions", () => {
  async function postApproval(): Promise<string> {
    const blocks = [
      section("*alice* requests S3Access for 2h", "summary"),
      {
        type: "actions",
        block_id: "decision",
        elements: [button("approve", "req-1", "Approve"), button("deny", "req-1", "Deny")],
      },
    ];
    const posted = await callApi(fake, "chat.postMessage", {
      channel: "C0APPROVALS",
      text: "request",
      blocks,
    });
    return String(posted.body.ts);
  }

  it("sends a click on a stored message with the fields Bolt reads", async () => {
    const ts = await postApproval();
    await client.blockAction({
      userId: "U0BOB",
      actionId: "approve",
      channelId: "C0APPROVALS",
      messageTs: ts,
    });
    const request = only();
    expect(request.verdict).toBe("ok");
    const payload = payloadOf(request);
    expect(payload).toMatchObject({
      type: "block_actions",
      user: { id: "U0BOB", username: "bob", name: "bob", team_id: "T0TEST" },
      team: { id: "T0TEST", domain: "keyturn" },
      api_app_id: fake.appId,
      token: "keyturn-verification-token",
      container: { type: "message", message_ts: ts, channel_id: "C0APPROVALS", is_ephemeral: false },
      channel: { id: "C0APPROVALS", name: "access-approvals" },
      message: { ts, text: "request", bot_id: fake.botId },
      actions: [
        {
          action_id: "approve",
          block_id: "decision",
          type: "button",
          value: "req-1",
          text: { type: "plain_text", text: "Approve" },
          action_ts: expect.stringMatching(/^\d{10}\.\d{6}$/),
        },
      ],
    });
    expect((payload.message as { blocks: unknown[] }).blocks).toHaveLength(2);
    expect(String(payload.response_url).startsWith(`${fake.origin}/hooks/actions/`)).toBe(true);
    expect(typeof payload.trigger_id).toBe("string");
  });

  it("sends an overriding value on the element it found (a forged or stale click)", async () => {
    const ts = await postApproval();
    await client.blockAction({
      userId: "U0BOB",
      actionId: "approve",
      value: "req-404",
      channelId: "C0APPROVALS",
      messageTs: ts,
    });
    expect(payloadOf(only()).actions).toEqual([
      expect.objectContaining({ action_id: "approve", block_id: "decision", value: "req-404" }),
    ]);
  });

  it("binds the response URL to the clicked message", async () => {
    const ts = await postApproval();
    await client.blockAction({ userId: "U0BOB", actionId: "deny", channelId: "C0APPROVALS", messageTs: ts });
    const url = String(payloadOf(only()).response_url);
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ replace_original: true, text: "Denied by bob" }),
    });
    expect(fake.messages("C0APPROVALS")).toEqual([
      expect.objectContaining({ ts, text: "Denied by bob", blocks: [] }),
    ]);
  });

  it("picks the element by value when an action id repeats, and takes overrides", async () => {
    const home = {
      type: "home",
      blocks: [
        {
          type: "section",
          block_id: "grant-1",
          text: { type: "mrkdwn", text: "S3" },
          accessory: button("revoke", "g1"),
        },
        {
          type: "section",
          block_id: "grant-2",
          text: { type: "mrkdwn", text: "Admin" },
          accessory: button("revoke", "g2"),
        },
      ],
    };
    const view = (await callApi(fake, "views.publish", { user_id: "U0ALICE", view: home })).body
      .view as SlackView;
    await client.blockAction({ userId: "U0ALICE", actionId: "revoke", value: "g2", view: { id: view.id } });
    const payload = payloadOf(only());
    expect(payload).toMatchObject({
      type: "block_actions",
      container: { type: "view", view_id: view.id },
      view: { id: view.id, type: "home", hash: view.hash },
      actions: [{ action_id: "revoke", block_id: "grant-2", value: "g2", type: "button" }],
    });
    expect(payload).not.toHaveProperty("response_url");
    expect(payload).not.toHaveProperty("channel");
  });

  it("sends a click on an ephemeral message without the message", async () => {
    await client.blockAction({
      userId: "U0ALICE",
      actionId: "pick",
      actionType: "static_select",
      action: { selected_option: { text: { type: "plain_text", text: "2h" }, value: "120" } },
      channelId: "C0APPROVALS",
    });
    const payload = payloadOf(only());
    expect(payload.container).toMatchObject({
      type: "message",
      channel_id: "C0APPROVALS",
      is_ephemeral: true,
    });
    expect(payload).not.toHaveProperty("message");
    expect(payload.actions).toEqual([
      expect.objectContaining({
        action_id: "pick",
        type: "static_select",
        selected_option: expect.anything(),
      }),
    ]);
  });
});

describe("view submissions", () => {
  it("sends the stored modal with the submitted state", async () => {
    const trigger = fake.newTriggerId("U0ALICE");
    const opened = (
      await callApi(fake, "views.open", {
        trigger_id: trigger,
        view: modal({ private_metadata: "flow=s3-prod" }),
      })
    ).body.view as SlackView;
    const values = { reason: { reason_input: { type: "plain_text_input", value: "INC-42 hotfix" } } };
    const delivery = await client.viewSubmission({
      userId: "U0ALICE",
      view: { id: opened.id, state: { values } },
    });
    expect(delivery.status).toBe(200);
    const payload = payloadOf(only());
    expect(payload).toMatchObject({
      type: "view_submission",
      team: { id: "T0TEST" },
      user: { id: "U0ALICE", username: "alice" },
      api_app_id: fake.appId,
      response_urls: [],
      view: {
        id: opened.id,
        hash: opened.hash,
        callback_id: "access_request",
        private_metadata: "flow=s3-prod",
        blocks: opened.blocks,
        state: { values },
      },
    });
  });

  it("builds a complete view when the fake does not know it", async () => {
    await client.viewSubmission({
      userId: "U0ALICE",
      view: { callback_id: "extend", private_metadata: "req-9", state: { values: {} } },
    });
    expect(payloadOf(only()).view).toMatchObject({
      id: expect.stringMatching(/^V[0-9A-F]{10}$/),
      type: "modal",
      callback_id: "extend",
      private_metadata: "req-9",
      team_id: "T0TEST",
      app_id: fake.appId,
      previous_view_id: null,
    });
  });

  it("sends view_closed", async () => {
    await client.viewClosed({ userId: "U0ALICE", view: { callback_id: "access_request" }, isCleared: true });
    expect(payloadOf(only())).toMatchObject({
      type: "view_closed",
      is_cleared: true,
      view: { callback_id: "access_request" },
    });
  });
});
