import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { slackSignature } from "@keyturn/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createReplayGuard, isSignedBySlack, SIGNATURE_WINDOW_MS } from "./replay-guard.js";

const SECRET = "0123456789abcdef0123456789abcdef";
let server: Server;
let url: string;
let now = Date.now();
let reached: Array<{ body: string; rawBody: string | undefined }>;

beforeEach(async () => {
  now = Date.now();
  reached = [];
  const guard = createReplayGuard({ signingSecret: SECRET, now: () => now, maxEntries: 3 });
  server = createServer(
    guard.wrap((req, res) => {
      // The receiver behind the guard: sees the body the guard already read, as Bolt would.
      const raw = (req as typeof req & { rawBody?: Buffer }).rawBody;
      reached.push({ body: "", rawBody: raw?.toString("utf8") });
      res.writeHead(200);
      res.end("ok");
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function send(body: string, options: { timestamp?: number; retry?: boolean; signature?: string } = {}) {
  const timestamp = options.timestamp ?? Math.floor(now / 1000);
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": options.signature ?? slackSignature(SECRET, timestamp, body),
      ...(options.retry === true ? { "x-slack-retry-num": "1" } : {}),
    },
    body,
  });
}

describe("the replay guard", () => {
  it("passes a signed request once, with its body, and rejects the same bytes again", async () => {
    const timestamp = Math.floor(now / 1000);
    expect((await send("payload=1", { timestamp })).status).toBe(200);
    expect(reached).toEqual([{ body: "", rawBody: "payload=1" }]);
    const replay = await send("payload=1", { timestamp });
    expect(replay.status).toBe(401);
    expect(await replay.text()).toBe("replayed request");
    expect(reached).toHaveLength(1);
  });

  it("lets a request marked as Slack's redelivery through (the interaction log dedupes it)", async () => {
    const timestamp = Math.floor(now / 1000);
    await send("payload=2", { timestamp });
    expect((await send("payload=2", { timestamp, retry: true })).status).toBe(200);
    expect(reached).toHaveLength(2);
  });

  it("leaves unsigned, badly signed and stale requests to Bolt, and remembers none of them", async () => {
    await send("payload=3", { signature: "v0=bad" });
    await send("payload=3", { signature: "v0=bad" });
    expect(reached).toHaveLength(2);
  });

  it("forgets pairs after the window, and the oldest first when full", async () => {
    const timestamp = Math.floor(now / 1000);
    await send("a=1", { timestamp });
    now += SIGNATURE_WINDOW_MS + 1;
    // Bolt would refuse this one as stale anyway; the guard has forgotten it and lets Bolt say so.
    expect((await send("a=1", { timestamp })).status).toBe(200);
  });
});

describe("isSignedBySlack", () => {
  it("checks the HMAC and the five-minute window", () => {
    const body = Buffer.from("x=1");
    const timestamp = String(Math.floor(now / 1000));
    const signature = slackSignature(SECRET, timestamp, "x=1");
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp, body, nowMs: now })).toBe(true);
    expect(isSignedBySlack({ signingSecret: "other", signature, timestamp, body, nowMs: now })).toBe(false);
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp, body, nowMs: now + 301_000 })).toBe(
      false,
    );
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp: "x", body, nowMs: now })).toBe(
      false,
    );
  });
});
