import { createHash } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import { HttpProblem } from "../http-errors.js";

/**
 * Per caller: a token (hashed, so the limiter's memory never holds a secret) or, before
 * authentication, the client address. A leaked or runaway token cannot starve everyone else.
 */
export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const authorization = request.headers.authorization;
      return typeof authorization === "string"
        ? `token:${createHash("sha256").update(authorization).digest("hex").slice(0, 32)}`
        : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(
        "RATE_LIMITED",
        `too many requests: at most ${context.max} per minute; retry in ${context.after}`,
        {
          headers: { "retry-after": String(Math.ceil(context.ttl / 1000)) },
        },
      ),
  });
}
