import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

// Everything Slack's "Verifying requests from Slack"
// (https://api.slack.com/authentication/verifying-requests-from-slack) asks for, before Bolt sees
// a byte, and what it leaves to the app: a request without the signature headers is refused
// before its body is read; a timestamp more than five minutes from now, in either direction, is refused (Slack's own
// sample compares the absolute difference; Bolt only checks the past); the body is bounded (413,
// not a reset); and a correctly signed (timestamp, signature) pair is accepted once, remembered
// where every replica sees it (Redis) until it could no longer pass the window. Slack signs every
// delivery afresh, its retries included (a retry minutes later would fail the window otherwise),
// so an X-Slack-Retry-Num header earns nothing here: the interaction log and the submission's
// idempotency key dedupe what Slack delivers twice.

/** Slack's tolerance for request timestamps, either side of now. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;
/**
 * Slack's payloads are small (a view submission of Keyturn's modal is a few KB; a click on a
 * message carries the message, at most a few tens of KB): 256 KiB leaves ample room.
 */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
// After a refusal the rest of the upload is read and dropped (never kept) for a while, so that the
// client reads our answer instead of a reset; then the connection is closed.
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;

const SIGNATURE = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;

/** Where accepted signatures are remembered; shared by replicas and surviving their restarts. */
export type ReplayMemory = {
  /** True when `key` was not remembered yet (it is now, until `untilMs`); false for a replay. */
  remember(key: string, untilMs: number): Promise<boolean>;
  /** Resolves when the memory answers, rejects when not: without it every Slack request is refused. */
  ping(): Promise<unknown>;
};

/** The minimal Redis the replay memory needs (an ioredis client fits). */
export type ReplayRedis = {
  set(key: string, value: string, px: "PX", ttlMs: number, nx: "NX"): Promise<"OK" | null>;
  ping(): Promise<string>;
};

/** The replay memory in Redis: one key per accepted pair, expiring with the pair's validity. */
export function createRedisReplayMemory(input: {
  redis: ReplayRedis;
  prefix: string;
  now?: () => number;
}): ReplayMemory {
  const now = input.now ?? Date.now;
  return {
    async remember(key, untilMs) {
      const ttl = Math.max(1000, Math.ceil(untilMs - now()));
      return (await input.redis.set(`${input.prefix}:slack-replay:${key}`, "1", "PX", ttl, "NX")) === "OK";
    },
    ping: () => input.redis.ping(),
  };
}

type RequestGuardLogger = {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
};

export type RequestGuardOptions = {
  signingSecret: string;
  replays: ReplayMemory;
  now?: () => number;
  logger?: RequestGuardLogger;
  bodyLimitBytes?: number;
  bodyTimeoutMs?: number;
};

type Buffered = IncomingMessage & { rawBody?: Buffer };

/** Slack's v0 scheme: HMAC-SHA256 over `v0:<timestamp>:<body>`, timestamp within the window. */
export function isSignedBySlack(input: {
  signingSecret: string;
  signature: string;
  timestamp: string;
  body: Buffer;
  nowMs: number;
}): boolean {
  if (!TIMESTAMP.test(input.timestamp) || !withinWindow(input.timestamp, input.nowMs)) {
    return false;
  }
  const expected = Buffer.from(
    `v0=${createHmac("sha256", input.signingSecret).update(`v0:${input.timestamp}:`).update(input.body).digest("hex")}`,
  );
  const given = Buffer.from(input.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function withinWindow(timestamp: string, nowMs: number): boolean {
  return Math.abs(nowMs - Number(timestamp) * 1000) <= SIGNATURE_WINDOW_MS;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

type BodyOutcome = { kind: "body"; body: Buffer } | { kind: "too_large" } | { kind: "timeout" };

function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyOutcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (outcome: BodyOutcome) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ kind: "timeout" }), timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        done({ kind: "too_large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done({ kind: "body", body: Buffer.concat(chunks) });
    req.on("data", onData);
    req.on("end", onEnd);
    req.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Answers without having read (all of) the body: the rest is read and dropped for a moment, so the
 * client sees the answer rather than a connection reset, and then the connection is closed.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  // Not "connection: close": Node would then close the socket as soon as the answer is written,
  // while the client may still be sending, and the client would read a reset instead.
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(reason);
  if (req.readableEnded) {
    return;
  }
  let dropped = 0;
  const close = () => req.socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) {
      clearTimeout(timer);
      close();
    }
  });
  req.on("end", () => clearTimeout(timer));
  req.resume();
}

export type RequestGuard = {
  /** Wraps the receiver's request listener; returns the wrapped one. */
  wrap(listener: RequestListener): RequestListener;
};

export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const now = options.now ?? Date.now;
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const timeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;

  const check = async (req: Buffered, res: ServerResponse, listener: RequestListener) => {
    const signature = header(req, "x-slack-signature");
    const timestamp = header(req, "x-slack-request-timestamp");
    // Before the body: who does not claim to be Slack, or claims it outside the window, costs
    // nothing but this answer.
    if (signature === undefined || timestamp === undefined) {
      refuse(req, res, 401, "missing Slack signature headers");
      return;
    }
    if (!SIGNATURE.test(signature) || !TIMESTAMP.test(timestamp)) {
      refuse(req, res, 401, "malformed Slack signature headers");
      return;
    }
    if (!withinWindow(timestamp, now())) {
      options.logger?.warn({ timestamp }, "refused a Slack request whose timestamp is outside the window");
      refuse(req, res, 401, "request timestamp is more than five minutes from now");
      return;
    }
    const declared = Number(header(req, "content-length") ?? "0");
    if (declared > limit) {
      refuse(req, res, 413, `request body larger than ${limit} bytes`);
      return;
    }
    const read = await readBody(req, limit, timeoutMs);
    if (read.kind === "too_large") {
      refuse(req, res, 413, `request body larger than ${limit} bytes`);
      return;
    }
    if (read.kind === "timeout") {
      refuse(req, res, 408, "request body not received in time");
      return;
    }
    const at = now();
    if (
      !isSignedBySlack({
        signingSecret: options.signingSecret,
        signature,
        timestamp,
        body: read.body,
        nowMs: at,
      })
    ) {
      options.logger?.warn({ timestamp }, "refused a Slack request with a bad signature");
      refuse(req, res, 401, "bad Slack signature");
      return;
    }
    // Remembered until the pair could no longer pass the window (a timestamp up to five minutes
    // ahead stays valid for ten), so no replica accepts it again while it could.
    const key = createHash("sha256").update(`${timestamp}:${signature}`).digest("hex");
    let fresh: boolean;
    try {
      fresh = await options.replays.remember(key, Number(timestamp) * 1000 + SIGNATURE_WINDOW_MS);
    } catch (error) {
      // Without the shared memory a replay cannot be told apart: refuse (Slack retries events;
      // a person clicks again) rather than risk it.
      options.logger?.error({ err: error }, "replay memory unavailable; refusing Slack requests");
      refuse(req, res, 503, "temporarily unavailable");
      return;
    }
    if (!fresh) {
      options.logger?.warn({ timestamp }, "refused a replayed Slack request (signature already used)");
      refuse(req, res, 401, "replayed request");
      return;
    }
    // Bolt reuses a body that was already read (BufferedIncomingMessage.rawBody).
    req.rawBody = read.body;
    listener(req, res);
  };

  return {
    wrap(listener) {
      return (req, res) => {
        if (req.method !== "POST") {
          listener(req, res);
          return;
        }
        check(req, res, listener).catch(() => {
          refuse(req, res, 400, "bad request");
        });
      };
    },
  };
}
