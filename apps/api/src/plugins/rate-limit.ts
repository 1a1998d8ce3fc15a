import { isIPv6 } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpProblem } from "../http-errors.js";
import { replyWithProblem } from "./problems.js";

/** Per minute: every request per client address, then every request per token. */
export type RateLimits = { perAddressPerMinute: number; perTokenPerMinute: number };

/** Counts one request of the token `request.auth` holds; throws RATE_LIMITED past its budget. */
export type TokenRateLimit = (request: FastifyRequest) => void;

const WINDOW_MS = 60_000;
// Keys remembered per budget (least recently used forgotten first): far more client addresses and
// tokens than one API process serves within a minute.
const REMEMBERED_KEYS = 20_000;
// Probes and scrapes: the orchestrator's and Prometheus's, which must not be starved by a flood
// from the same address (they read no token and write nothing).
const UNLIMITED_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

type Window = { startedAt: number; count: number };

/**
 * A fixed one-minute window per key, counted synchronously: of N requests arriving together, exactly
 * the budget's worth pass (a store that answers after an await would let the last count decide for
 * all of them).
 */
export function createBudget(max: number, now: () => number = Date.now) {
  const windows = new Map<string, Window>();
  return {
    /** Spends one request of `key`'s budget; the wait until the window resets if it is spent. */
    take(key: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
      const at = now();
      let window = windows.get(key);
      if (window === undefined || window.startedAt + WINDOW_MS <= at) {
        window = { startedAt: at, count: 0 };
      }
      window.count += 1;
      // Re-inserted: the map's order is least recently used first.
      windows.delete(key);
      windows.set(key, window);
      for (const oldest of windows.keys()) {
        if (windows.size <= REMEMBERED_KEYS) {
          break;
        }
        windows.delete(oldest);
      }
      return window.count <= max
        ? { allowed: true }
        : { allowed: false, retryAfterMs: window.startedAt + WINDOW_MS - at };
    },
  };
}

/** The client's address as a budget key; an IPv6 client owns a /64, so it counts as one. */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) {
    return ip;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped !== undefined) {
    return mapped;
  }
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = ip.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

function rateLimited(max: number, retryAfterMs: number, per: string): HttpProblem {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new HttpProblem(
    "RATE_LIMITED",
    `too many requests: at most ${max} per minute per ${per}; retry in ${seconds} s`,
    { headers: { "retry-after": String(seconds) } },
  );
}

/**
 * Two budgets. Before authentication, every request counts against its client address: the
 * socket's, or behind a configured trusted proxy the address that proxy saw (trustProxy decides
 * request.ip, so a client cannot choose one with X-Forwarded-For). Bad, unknown and wrong-scope
 * tokens are thus limited before they cost a database lookup. After authentication, every request
 * counts against the token's id, however its Authorization header is spelled. Both live in this
 * process's memory: with N replicas behind a balancer a client gets up to N times the budget.
 */
export function registerRateLimits(app: FastifyInstance, limits: RateLimits): TokenRateLimit {
  const byAddress = createBudget(limits.perAddressPerMinute);
  // On the root, before any other hook that reads a token: the first thing every request meets.
  // Answered here rather than thrown: the queue dashboard's routes have an error handler of their own.
  app.addHook("onRequest", async (request, reply) => {
    if (UNLIMITED_ROUTES.has(request.routeOptions.url ?? "")) {
      return undefined;
    }
    const spent = byAddress.take(addressKey(request.ip));
    if (!spent.allowed) {
      return replyWithProblem(
        request,
        reply,
        rateLimited(limits.perAddressPerMinute, spent.retryAfterMs, "client address"),
      );
    }
    return undefined;
  });

  const byToken = createBudget(limits.perTokenPerMinute);
  return (request) => {
    const id = request.auth?.token.id;
    if (id === undefined) {
      return;
    }
    const spent = byToken.take(id);
    if (!spent.allowed) {
      throw rateLimited(limits.perTokenPerMinute, spent.retryAfterMs, "token");
    }
  };
}
