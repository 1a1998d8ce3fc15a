import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSlackFake } from "./server.js";
import { callApi } from "./test-support.js";
import type { SlackFake } from "./types.js";

// Slack's side of Socket Mode, spoken to by Node's own WebSocket client (the one Bolt's Socket Mode
// client is built on); the app's side is proven in apps/slack's socket-mode.e2e.test.ts.

let fake: SlackFake;

beforeEach(async () => {
  fake = await startSlackFake({ botToken: "xoxb-right", appToken: "xapp-1-A0KEYTURN-1-right" });
});

afterEach(async () => {
  await fake.close();
});

async function openUrl(): Promise<string> {
  const answer = await callApi(fake, "apps.connections.open", {}, { token: fake.socketMode.appToken });
  expect(answer.body.ok).toBe(true);
  return String(answer.body.url);
}

/** Connects and resolves with the socket and the first message (Slack's hello). */
function connect(url: string): Promise<{ socket: WebSocket; first: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.addEventListener(
      "message",
      (event) => resolve({ socket, first: JSON.parse(String(event.data)) }),
      {
        once: true,
      },
    );
    socket.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)), { once: true });
  });
}

describe("apps.connections.open", () => {
  it("answers the app-level token with a one-time ws:// URL, and refuses other tokens", async () => {
    expect(await openUrl()).toMatch(
      /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]{36}&app_id=A0KEYTURN$/,
    );
    const withBotToken = await callApi(fake, "apps.connections.open", {}, { token: "xoxb-right" });
    expect(withBotToken.body).toMatchObject({ ok: false, error: "not_allowed_token_type" });
    const withNothing = await callApi(fake, "apps.connections.open", {}, { token: null });
    expect(withNothing.body).toMatchObject({ ok: false, error: "not_authed" });
    const wrongAppToken = await callApi(
      fake,
      "apps.connections.open",
      {},
      { token: "xapp-1-A0KEYTURN-1-wrong" },
    );
    expect(wrongAppToken.body).toMatchObject({ ok: false, error: "invalid_auth" });
    // The app-level token calls nothing but apps.connections.open.
    const postWithAppToken = await callApi(
      fake,
      "chat.postMessage",
      { channel: "C1", text: "hi" },
      { token: fake.socketMode.appToken },
    );
    expect(postWithAppToken.body).toMatchObject({ ok: false, error: "not_allowed_token_type" });
  });
});

describe("the socket", () => {
  it("greets a connection with hello, sends envelopes and resolves with the ack that names them", async () => {
    const { socket, first } = await connect(await openUrl());
    expect(first).toMatchObject({
      type: "hello",
      num_connections: 1,
      connection_info: { app_id: "A0KEYTURN" },
    });
    socket.addEventListener("message", (event) => {
      const envelope = JSON.parse(String(event.data)) as {
        envelope_id: string;
        type: string;
        payload: unknown;
      };
      // An app echoing the payload's command in its ack, as a slash command may reply at once.
      socket.send(
        JSON.stringify({ envelope_id: envelope.envelope_id, payload: { text: `got ${envelope.type}` } }),
      );
    });
    const ack = await fake.socketMode.send("slash_commands", { command: "/access" });
    expect(ack.payload).toEqual({ text: "got slash_commands" });
    expect(ack.envelopeId).toMatch(/^[0-9a-f-]{36}$/);
    socket.close();
  });

  it("lets each URL connect once, and refuses an unknown ticket", async () => {
    const url = await openUrl();
    const { socket } = await connect(url);
    await expect(connect(url)).rejects.toThrow(/could not connect/);
    await expect(connect(url.replace(/ticket=[^&]+/, "ticket=forged"))).rejects.toThrow(/could not connect/);
    expect(fake.socketMode.connections()).toBe(1);
    socket.close();
  });

  it("rejects an envelope nobody acknowledges within its timeout", async () => {
    const { socket } = await connect(await openUrl());
    await expect(
      fake.socketMode.send("interactive", { type: "block_actions" }, { ackTimeoutMs: 200 }),
    ).rejects.toThrow(/no ack for interactive envelope/);
    socket.close();
  });

  it("refuses to send when no app is connected", async () => {
    await expect(fake.socketMode.send("slash_commands", {})).rejects.toThrow(/no app is connected/);
  });
});
