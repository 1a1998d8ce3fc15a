import { AppError } from "@keyturn/usecases";
import { Redis } from "ioredis";

export type ConnectionRole = "producer" | "worker";

/**
 * The key namespace of everything this package writes: BullMQ keys are `<prefix>:<queue>:…` and
 * the rate limiter's are `<prefix>:rate-limit:…`. Tests and side-by-side deployments sharing one
 * Redis pick their own.
 */
export const DEFAULT_PREFIX = "keyturn";

// No glob characters, so that `SCAN MATCH <prefix>:*` (cleanup, inspection) matches only our keys;
// braces are allowed for Redis Cluster hash tags.
const PREFIX_PATTERN = /^[A-Za-z0-9_.{}-]{1,64}$/;

/**
 * The prefix is a BullMQ/limiter option, not ioredis's `keyPrefix`: BullMQ refuses connections
 * with a `keyPrefix`, because its Lua scripts build key names themselves.
 */
export function validatePrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new AppError(
      "INVALID_CONFIGURATION",
      "Redis key prefix must be 1-64 characters of letters, digits, _ . - { }",
      { retryable: false },
    );
  }
  return prefix;
}

export type RedisConnectionOptions = {
  /** Shown by `CLIENT LIST`, which helps tell workers apart on a shared Redis. */
  connectionName?: string;
};

/**
 * One ioredis connection, configured for its role (BullMQ "going to production"):
 * - a worker waits out Redis outages: `maxRetriesPerRequest: null` keeps its commands queued
 *   across reconnects (BullMQ refuses to run a worker otherwise), so a restart of Redis does not
 *   need a restart of the worker;
 * - a producer fails fast: with the offline queue off and one retry, `enqueue` rejects while Redis
 *   is down, and the caller (the outbox relay) keeps the row and tries again later, instead of
 *   holding requests in memory that a crash would lose.
 * The caller owns the connection and closes it (`quit()`) after the producer, worker or limiter
 * that uses it.
 */
export function createRedisConnection(
  url: string,
  role: ConnectionRole,
  options: RedisConnectionOptions = {},
): Redis {
  const named = options.connectionName === undefined ? {} : { connectionName: options.connectionName };
  if (role === "worker") {
    return new Redis(url, { ...named, maxRetriesPerRequest: null });
  }
  return new Redis(url, {
    ...named,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 5_000,
  });
}
