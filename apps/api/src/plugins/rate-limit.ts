import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpProblem } from "../http-errors.js";

/** Per minute: every request per client address, then every request per token. */
export type RateLimits = { perAddressPerMinute: number; perTokenPerMinute: number };

/** Counts one request of the token `request.auth` holds; throws RATE_LIMITED past its budget. */
export type TokenRateLimit = (request: FastifyRequest) => Promise<void>;

const WINDOW_MS = 60_000;
// Client addresses remembered (least recently used forgotten first): far more than one API process
// serves within a minute. (The per-token limiter keeps @fastify/rate-limit's 5000 tokens.)
const REMEMBERED_ADDRESSES = 20_000;
// Probes and scrapes: the orchestrator's and Prometheus's, which must not be starved by a flood
// from the same address (they touch no token and write nothing).
const UNLIMITED_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

function rateLimited(max: number, ttlMs: number, per: string): HttpProblem {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new HttpProblem(
    "RATE_LIMITED",
    `too many requests: at most ${max} per minute per ${per}; retry in ${seconds} s`,
    { headers: { "retry-after": String(seconds) } },
  );
}

/**
 * Two budgets. Before authentication, every request counts against its client address (the
 * socket's, or behind a configured trusted proxy the address that proxy saw: trustProxy decides
 * request.ip, so a client cannot pick one with X-Forwarded-For; IPv6 per /64): bad, unknown and
 * wrong-scope tokens are limited before they cost a database lookup. After authentication,
 * every request counts against the token's id, however its Authorization header is spelled. Both
 * live in this process's memory: with N replicas behind a balancer a client gets up to N times
 * the budget.
 */
export async function registerRateLimits(app: FastifyInstance, limits: RateLimits): Promise<TokenRateLimit> {
  await app.register(rateLimit, {
    // Routes get no hook of their own: a route-level hook would run after the /v1 auth hook.
    global: false,
    max: limits.perAddressPerMinute,
    timeWindow: WINDOW_MS,
    cache: REMEMBERED_ADDRESSES,
    errorResponseBuilder: (_request, context) => rateLimited(context.max, context.ttl, "client address"),
  });
  // The plugin's own settings and store: keyed on request.ip (IPv6 by /64).
  const byAddress = app.rateLimit();
  // Registered on the root before any route's hooks: the first thing every request meets.
  app.addHook("onRequest", async (request, reply) => {
    if (UNLIMITED_ROUTES.has(request.routeOptions.url ?? "")) {
      return;
    }
    await byAddress.call(app, request, reply);
  });

  const byToken = app.createRateLimit({
    max: limits.perTokenPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `token:${request.auth?.token.id ?? "none"}`,
  });
  return async (request) => {
    const outcome = await byToken(request);
    if (!outcome.isAllowed && outcome.isExceeded) {
      throw rateLimited(outcome.max, outcome.ttl, "token");
    }
  };
}
