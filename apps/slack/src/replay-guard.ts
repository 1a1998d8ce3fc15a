import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

// Bolt checks each request's signature and that its timestamp is within five minutes, which
// leaves a five-minute window in which a captured request could be sent again verbatim. This
// closes it: a correctly signed (signature, timestamp) pair is accepted once. Slack's own
// redeliveries carry X-Slack-Retry-Num and pass through; the interaction log (interactions.ts)
// then makes sure each interaction is still only processed once.

/** Slack's tolerance for request timestamps, which Bolt enforces too. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export type ReplayGuardLogger = { warn(fields: Record<string, unknown>, message: string): void };

export type ReplayGuardOptions = {
  signingSecret: string;
  now?: () => number;
  logger?: ReplayGuardLogger;
  /** Bounds memory under a flood; the oldest pairs are forgotten first. */
  maxEntries?: number;
};

type Buffered = IncomingMessage & { rawBody?: Buffer };

/** Slack's v0 scheme, as Bolt checks it: HMAC-SHA256 over `v0:<timestamp>:<body>`, fresh timestamp. */
export function isSignedBySlack(input: {
  signingSecret: string;
  signature: string;
  timestamp: string;
  body: Buffer;
  nowMs: number;
}): boolean {
  const seconds = Number(input.timestamp);
  if (!Number.isInteger(seconds) || Math.abs(input.nowMs - seconds * 1000) > SIGNATURE_WINDOW_MS) {
    return false;
  }
  const expected = Buffer.from(
    `v0=${createHmac("sha256", input.signingSecret).update(`v0:${input.timestamp}:`).update(input.body).digest("hex")}`,
  );
  const given = Buffer.from(input.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export type ReplayGuard = {
  /** Wraps the receiver's request listener; returns the wrapped one. */
  wrap(listener: RequestListener): RequestListener;
  /** Pairs currently remembered (for tests and metrics). */
  size(): number;
};

export function createReplayGuard(options: ReplayGuardOptions): ReplayGuard {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 200_000;
  // Insertion order is expiry order (each pair expires SIGNATURE_WINDOW_MS after it was seen).
  const seen = new Map<string, number>();

  const prune = (at: number) => {
    for (const [key, expires] of seen) {
      if (expires > at && seen.size <= maxEntries) {
        break;
      }
      seen.delete(key);
    }
  };

  const reject = (res: ServerResponse, reason: string) => {
    res.writeHead(401, { "content-type": "text/plain" });
    res.end(reason);
  };

  const check = async (req: Buffered, res: ServerResponse, listener: RequestListener) => {
    const body = await readBody(req);
    if (body === null) {
      res.writeHead(413);
      res.end();
      return;
    }
    // Bolt reuses a body that was already read (BufferedIncomingMessage.rawBody).
    req.rawBody = body;
    const signature = header(req, "x-slack-signature");
    const timestamp = header(req, "x-slack-request-timestamp");
    const at = now();
    const valid =
      signature !== undefined &&
      timestamp !== undefined &&
      isSignedBySlack({ signingSecret: options.signingSecret, signature, timestamp, body, nowMs: at });
    if (!valid) {
      // Not ours to judge: Bolt rejects it (401) and logs why (bad signature, stale, missing).
      listener(req, res);
      return;
    }
    const key = `${timestamp}:${signature}`;
    const isRetry = header(req, "x-slack-retry-num") !== undefined;
    prune(at);
    if (seen.has(key) && !isRetry) {
      options.logger?.warn({ timestamp }, "rejected a replayed Slack request (signature already used)");
      reject(res, "replayed request");
      return;
    }
    if (!seen.has(key)) {
      seen.set(key, at + SIGNATURE_WINDOW_MS);
    }
    listener(req, res);
  };

  return {
    size: () => seen.size,
    wrap(listener) {
      return (req, res) => {
        if (req.method !== "POST") {
          listener(req, res);
          return;
        }
        check(req, res, listener).catch(() => {
          if (!res.headersSent) {
            res.writeHead(400);
            res.end();
          }
        });
      };
    },
  };
}
