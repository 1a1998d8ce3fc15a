import { randomUUID } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRedisConnection } from "@keyturn/queue";
import { slackSignature } from "@keyturn/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisReplayMemory,
  createRequestGuard,
  isSignedBySlack,
  type ReplayMemory,
  SIGNATURE_WINDOW_MS,
} from "./request-guard.js";
import { rawHttpExchange } from "./test-support.js";

// The Slack request guard over real sockets, with its replay memory in the real Redis: what Slack's
// "Verifying requests from Slack" asks for, and what a hostile client can do to the endpoint.

const SECRET = "0123456789abcdef0123456789abcdef";
const prefix = `kt-guard-${randomUUID().slice(0, 8)}`;
let redis: ReturnType<typeof createRedisConnection>;
let replays: ReplayMemory;
const servers: Server[] = [];
let reached: string[];

beforeAll(async () => {
  redis = createRedisConnection("redis://127.0.0.1:6379", "producer");
  await new Promise((resolve) => redis.once("ready", resolve));
  replays = createRedisReplayMemory({ redis, prefix });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) {
    await redis.del(...keys);
  }
  await redis.quit();
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A receiver behind the guard (a replica), recording the bodies that reached it. */
async function replica(
  options: { memory?: ReplayMemory; now?: () => number; bodyLimitBytes?: number } = {},
): Promise<string> {
  reached ??= [];
  const guard = createRequestGuard({
    signingSecret: SECRET,
    replays: options.memory ?? replays,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: options.bodyLimitBytes }),
  });
  const receiver: RequestListener = (req, res) => {
    const raw = (req as typeof req & { rawBody?: Buffer }).rawBody;
    reached.push(raw?.toString("utf8") ?? "<no body>");
    res.writeHead(200);
    res.end("ok");
  };
  const server = createServer(guard.wrap(receiver));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type Signed = { body: string; timestamp: number; signature: string };

function signed(body: string, timestamp = Math.floor(Date.now() / 1000)): Signed {
  return { body, timestamp, signature: slackSignature(SECRET, timestamp, body) };
}

function send(base: string, request: Signed, extra: Record<string, string> = {}) {
  return fetch(`${base}/slack/events`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(request.timestamp),
      "x-slack-signature": request.signature,
      ...extra,
    },
    body: request.body,
  });
}

describe("requests that do not claim to be Slack's", () => {
  it("malformed signature headers are refused (401) before the body is read", async () => {
    const base = await replica();
    reached = [];
    for (const head of [
      {
        "x-slack-signature": "v0=nothex",
        "x-slack-request-timestamp": String(Math.floor(Date.now() / 1000)),
      },
      { "x-slack-signature": `v0=${"a".repeat(64)}`, "x-slack-request-timestamp": "soon" },
      { "x-slack-signature": `v0=${"a".repeat(64)}` },
    ]) {
      const attempt = await rawHttpExchange(base, { ...head, "content-length": "1000000" }, []);
      expect(attempt.status).toBe("HTTP/1.1 401 Unauthorized");
    }
    expect(reached).toEqual([]);
  });
});

describe("timestamps outside Slack's five minutes, in either direction", () => {
  it("one dated four minutes ahead passes once, and is remembered until it could no longer pass", async () => {
    const base = await replica();
    reached = [];
    const ahead = signed(`payload=${randomUUID()}`, Math.floor(Date.now() / 1000) + 4 * 60);
    expect((await send(base, ahead)).status).toBe(200);
    expect((await send(base, ahead)).status).toBe(401);
    expect(reached).toEqual([ahead.body]);
    const keys = await redis.keys(`${prefix}:slack-replay:*`);
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
    // Valid until its timestamp + 5 min, i.e. about nine minutes from now: remembered that long.
    expect(Math.max(...ttls)).toBeGreaterThan(8 * 60 * 1000);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(2 * SIGNATURE_WINDOW_MS);
  });
});

describe("the replay memory", () => {
  it("without its memory (Redis down) the guard refuses (503) rather than risk a replay", async () => {
    const down = createRedisConnection("redis://127.0.0.1:1", "producer");
    down.on("error", () => undefined);
    try {
      const base = await replica({ memory: createRedisReplayMemory({ redis: down, prefix }) });
      reached = [];
      const response = await send(base, signed("payload=nomemory"));
      expect(response.status).toBe(503);
      expect(reached).toEqual([]);
    } finally {
      down.disconnect();
    }
  });
});

describe("isSignedBySlack", () => {
  it("checks the HMAC and the window on both sides", () => {
    const now = Date.now();
    const timestamp = String(Math.floor(now / 1000));
    const body = Buffer.from("payload=x");
    const signature = slackSignature(SECRET, Number(timestamp), body.toString("utf8"));
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp, body, nowMs: now })).toBe(true);
    expect(isSignedBySlack({ signingSecret: "other", signature, timestamp, body, nowMs: now })).toBe(false);
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp, body, nowMs: now + 301_000 })).toBe(
      false,
    );
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp, body, nowMs: now - 301_000 })).toBe(
      false,
    );
    expect(isSignedBySlack({ signingSecret: SECRET, signature, timestamp: "x", body, nowMs: now })).toBe(
      false,
    );
  });
});
