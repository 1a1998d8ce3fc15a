import { randomUUID } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { createRedisConnection } from "@keyturn/queue";
import { slackSignature } from "@keyturn/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisReplayMemory,
  createRequestGuard,
  DEFAULT_BODY_LIMIT_BYTES,
  isSignedBySlack,
  type ReplayMemory,
  SIGNATURE_WINDOW_MS,
} from "./request-guard.js";

// The Slack request guard over real sockets, with its replay memory in the real Redis: what Slack's
// "Verifying requests from Slack" asks for, and what a hostile client can do to the endpoint.

const SECRET = "0123456789abcdef0123456789abcdef";
const prefix = `kt-guard-${randomUUID().slice(0, 8)}`;
let redis: ReturnType<typeof createRedisConnection>;
let replays: ReplayMemory;
const servers: Server[] = [];
let reached: string[];

beforeAll(() => {
  redis = createRedisConnection("redis://127.0.0.1:6379", "producer");
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

/**
 * A raw HTTP exchange: writes the head and `chunks` of the body (never finishing it unless told),
 * and resolves with the status line the server answered, or "reset"/"closed" if it answered none.
 */
function rawExchange(
  base: string,
  head: Record<string, string>,
  chunks: Buffer[],
  options: { finish?: boolean } = {},
): Promise<{ status: string; bodySent: number }> {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    let bodySent = 0;
    let settled = false;
    const settle = (status: string) => {
      if (!settled) {
        settled = true;
        socket.destroy();
        resolve({ status, bodySent });
      }
    };
    socket.on("data", (data) => {
      answer += data.toString("latin1");
      const line = answer.split("\r\n")[0];
      if (answer.includes("\r\n") && line !== undefined) {
        settle(line);
      }
    });
    socket.on("error", () => settle("reset"));
    socket.on("close", () => settle("closed"));
    socket.on("connect", async () => {
      const lines = [
        "POST /slack/events HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        ...Object.entries(head).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      for (const chunk of chunks) {
        if (settled) {
          return;
        }
        await new Promise<void>((done) => socket.write(chunk, () => done()));
        bodySent += chunk.length;
      }
      if (options.finish === true) {
        socket.end();
      }
    });
  });
}

describe("requests that do not claim to be Slack's", () => {
  it("are refused (401) before their body is read: 100 never-finished unsigned uploads", async () => {
    const base = await replica();
    reached = [];
    const attempts = await Promise.all(
      Array.from({ length: 100 }, () =>
        // Announces 4 MiB, sends 16 KiB of it, and never the rest.
        rawExchange(base, { "content-type": "application/json", "content-length": String(4 * 1024 * 1024) }, [
          Buffer.alloc(16 * 1024, 0x61),
        ]),
      ),
    );
    for (const attempt of attempts) {
      expect(attempt.status).toBe("HTTP/1.1 401 Unauthorized");
    }
    expect(reached).toEqual([]);
  });

  it("malformed signature headers are refused the same way", async () => {
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
      const attempt = await rawExchange(base, { ...head, "content-length": "1000000" }, []);
      expect(attempt.status).toBe("HTTP/1.1 401 Unauthorized");
    }
    expect(reached).toEqual([]);
  });
});

describe("the body is bounded", () => {
  const headers = (length?: number) => {
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": `v0=${"0".repeat(64)}`,
      ...(length === undefined ? { "transfer-encoding": "chunked" } : { "content-length": String(length) }),
    };
  };

  it("413, not a reset, for a declared length over the limit, answered before the body", async () => {
    const base = await replica();
    reached = [];
    const attempt = await rawExchange(base, headers(DEFAULT_BODY_LIMIT_BYTES + 1), []);
    expect(attempt.status).toBe("HTTP/1.1 413 Payload Too Large");
    expect(reached).toEqual([]);
  });

  it("413, not a reset, for a chunked upload that grows past the limit while it is still sending", async () => {
    const base = await replica();
    reached = [];
    const chunk = (size: number) =>
      Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.alloc(size, 0x62), Buffer.from("\r\n")]);
    // 64 KiB at a time, 1 MiB in all: the client is still writing when the limit is crossed.
    const attempt = await rawExchange(
      base,
      headers(),
      Array.from({ length: 16 }, () => chunk(64 * 1024)),
    );
    expect(attempt.status).toBe("HTTP/1.1 413 Payload Too Large");
    expect(reached).toEqual([]);
  });
});

describe("timestamps outside Slack's five minutes, in either direction", () => {
  it("a correctly signed request dated six minutes ahead is refused every time it is sent", async () => {
    const base = await replica();
    reached = [];
    const ahead = signed("payload=future", Math.floor(Date.now() / 1000) + 6 * 60);
    for (let i = 0; i < 3; i++) {
      const response = await send(base, ahead);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe("request timestamp is more than five minutes from now");
    }
    const behind = signed("payload=past", Math.floor(Date.now() / 1000) - 6 * 60);
    expect((await send(base, behind)).status).toBe(401);
    expect(reached).toEqual([]);
  });

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

describe("the replay memory is shared by replicas and survives a restart", () => {
  it("a request accepted by one replica is refused by another and by a restarted one", async () => {
    const first = await replica();
    const second = await replica();
    reached = [];
    const request = signed(`payload=${randomUUID()}`);
    expect((await send(first, request)).status).toBe(200);
    const replay = await send(second, request);
    expect(replay.status).toBe(401);
    expect(await replay.text()).toBe("replayed request");
    // A forged "this is Slack's retry" header changes nothing.
    expect((await send(second, request, { "x-slack-retry-num": "1" })).status).toBe(401);

    // A restart: a new process with a new connection finds the memory where the first left it.
    const fresh = createRedisConnection("redis://127.0.0.1:6379", "producer");
    await new Promise((resolve) => fresh.once("ready", resolve));
    try {
      const restarted = await replica({ memory: createRedisReplayMemory({ redis: fresh, prefix }) });
      expect((await send(restarted, request)).status).toBe(401);
    } finally {
      await fresh.quit();
    }
    expect(reached).toEqual([request.body]);
  });

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
