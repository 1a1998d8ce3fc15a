import { createHash, randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { AppError } from "@keyturn/usecases";
import type { Redis } from "ioredis";
import { DEFAULT_PREFIX, validatePrefix } from "./connection.js";
import type { QueueLogger } from "./logger.js";

// Structurally the same as `RateLimiter` and `TimeSource` in packages/aws (rate-limiter.ts,
// time-source.ts), so the Identity Center adapter takes either limiter; repeated here because
// adapters do not depend on each other.

/** What a call is for; when calls compete, removals go first, then reads, then creations. */
export type CallKind = "removal" | "read" | "creation";

export type RateLimiter = {
  /** Resolves when one call of this kind may be sent. Every attempt of every call acquires once. */
  acquire(kind: CallKind): Promise<void>;
  /**
   * Runs `run` holding one outstanding-creation permit: from before CreateAccountAssignment until
   * its status is terminal. The permit is released however `run` ends.
   */
  withCreationSlot<T>(run: () => Promise<T>): Promise<T>;
};

export type TimeSource = {
  now(): number;
  sleep(ms: number): Promise<void>;
};

const systemTime: TimeSource = {
  now: () => performance.now(),
  sleep: async (ms) => {
    await delay(Math.max(0, Math.ceil(ms)));
  },
};

export type RedisRateLimiterOptions = {
  /** Any connection; a worker's (`maxRetriesPerRequest: null`) waits out a Redis restart. */
  redis: Redis;
  prefix?: string;
  /** Default 18: a margin under Identity Center's 20 calls/s, shared by every process. */
  callsPerSecond?: number;
  /**
   * Default 10, shared likewise: the lower of the outstanding CreateAccountAssignment figures AWS
   * documents (10 on the Identity Center quotas page, 15 on the account access manager page).
   */
  maxOutstandingCreations?: number;
  /**
   * Default 30 s: how long a permit outlives its holder's last renewal. Holders renew every third
   * of it, so a creation may take any time, and a crashed holder's permit is free again within it.
   */
  creationPermitTtlMs?: number;
  /** Only `sleep` is used: every instant is read from Redis, the one clock all processes share. */
  time?: TimeSource;
  /**
   * Default 40: how late after its slot a call may still go before the caller gives the slot up
   * (see MAX_LATENESS_MS). A test that asserts the order slots are handed out in, on a machine too
   * busy to wake anyone on time, turns the giving up off with Infinity.
   */
  maxLatenessMs?: number;
  logger?: QueueLogger;
};

/*
 * Call spacing, shared through one key holding the instant (Redis clock, ms) from which the next
 * call may go. Each acquire reserves the slot `max(now, next)` and moves `next` one interval
 * (1000 / callsPerSecond ms) on, atomically; the caller then sleeps until its slot. Slots are thus
 * at least one interval apart whichever process holds them, so any 1 s window sees at most
 * callsPerSecond + 1 calls (GCRA with no burst).
 *
 * Priority by hold-back: a kind may only reserve a slot at most its horizon ahead of now. Removals
 * have no horizon and queue up FIFO. Reads may reserve 4 intervals ahead and creations 1; otherwise
 * the script answers when the backlog will have shrunk to their horizon and they ask again then. So
 * any backlog of removals (or of reads) holds every creation back, and a removal arriving behind
 * waiting creations finds at most one creation slot ahead of it. The price: reads and creations
 * poll (about once per interval each while held back), unordered among themselves, and they starve
 * while removals keep coming, which is the point.
 *
 * The key expires a second after `next` has passed: by then it would not change any answer. The
 * reply carries Redis's own instant too, from which each process maps the slot onto its own clock
 * (see RedisClock).
 */
const ACQUIRE_SCRIPT = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local interval = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local nextFree = tonumber(redis.call("GET", KEYS[1])) or now
local slot = math.max(now, nextFree)
if horizon >= 0 and slot - now > horizon then
  return {0, string.format("%.3f", slot - horizon - now), string.format("%.3f", now)}
end
local after = slot + interval
redis.call("SET", KEYS[1], string.format("%.3f", after), "PX", math.ceil(after - now) + 1000)
return {1, string.format("%.3f", slot - now), string.format("%.3f", now)}
`;

/*
 * Outstanding-creation permits: a sorted set of permit id -> expiry (Redis clock, ms). Expired
 * permits are dropped first, so a permit whose holder died stops counting after its TTL. The same
 * script renews a held permit (and re-takes one that lapsed if there is room). When full, it
 * answers how long until the oldest permit expires, an upper bound on the wait.
 */
const PERMIT_SCRIPT = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local ttl = tonumber(ARGV[3])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", string.format("%.3f", now))
if redis.call("ZSCORE", KEYS[1], ARGV[1]) or redis.call("ZCARD", KEYS[1]) < tonumber(ARGV[2]) then
  redis.call("ZADD", KEYS[1], string.format("%.3f", now + ttl), ARGV[1])
  if redis.call("PTTL", KEYS[1]) < ttl + 1000 then
    redis.call("PEXPIRE", KEYS[1], math.ceil(ttl) + 1000)
  end
  return {1, "0"}
end
local oldest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
return {0, string.format("%.3f", tonumber(oldest[2]) - now)}
`;

// Read and creation horizons in intervals (see ACQUIRE_SCRIPT); removals have none.
const HORIZON_INTERVALS: Record<CallKind, number> = { removal: -1, read: 4, creation: 1 };
// A held-back caller asks again at least this often, and a permit waiter polls at most this
// rarely: permits are usually released long before they expire.
const MIN_RETRY_MS = 1;
// How late after its slot a call may still go, and how many late slots a caller gives up at most.
// A call goes no earlier than its slot and at most L ms after it, so any 1 s window holds only the
// slots of a (1000 + L) ms stretch: at 18/s (T = 55.6 ms) and L = 40 that is 19 calls, under AWS's
// 20, with room left for the SDK's own jitter between this check and the wire.
const MAX_LATENESS_MS = 40;
const MAX_LATE_SLOTS = 5;
const PERMIT_POLL_MS = 50;

type Script = { source: string; sha: string };

function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

const acquireScript = script(ACQUIRE_SCRIPT);
const permitScript = script(PERMIT_SCRIPT);

/**
 * EVALSHA with a fallback to EVAL on NOSCRIPT (a Redis restarted or flushed its script cache):
 * unlike ioredis's `defineCommand`, this leaves a connection shared with BullMQ untouched.
 */
async function runScript(
  redis: Redis,
  { source, sha }: Script,
  keys: string[],
  args: Array<string | number>,
): Promise<{ granted: boolean; waitMs: number; redisNow: number }> {
  let reply: unknown;
  try {
    reply = await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) {
      throw error;
    }
    reply = await redis.eval(source, keys.length, ...keys, ...args);
  }
  if (!Array.isArray(reply) || reply.length < 2) {
    throw new Error("Unexpected rate limiter script reply");
  }
  return { granted: Number(reply[0]) === 1, waitMs: Number(reply[1]), redisNow: Number(reply[2]) };
}

// How fast our estimate of Redis's clock may drift from our own: NTP slews a wall clock by at
// most 500 ppm, and performance.now() does not slew at all.
const DRIFT_PER_MS = 0.0005;

/**
 * Maps instants of Redis's clock (where the slots are) onto this process's clock. Every script
 * reply is a sample: Redis read its clock somewhere between our request and our reading of the
 * reply, so the offset lies within half the round trip of the midpoint. The sample with the
 * tightest bound (aged by the drift allowance) is kept, and an instant is mapped to the latest our
 * time it may correspond to: a call never goes before its slot, however long a request waited for
 * a busy Redis or a reply for a busy event loop, and a slow round trip alone does not make a
 * caller late, since the quickest round trip seen sets the bound.
 */
class RedisClock {
  #offset = 0;
  #bound = Number.POSITIVE_INFINITY;
  #sampledAt = 0;
  readonly #time: TimeSource;

  constructor(time: TimeSource) {
    this.#time = time;
  }

  sample(asked: number, replied: number, redisNow: number): void {
    if (!Number.isFinite(redisNow)) {
      return;
    }
    const bound = (replied - asked) / 2;
    if (bound <= this.#agedBound(replied)) {
      this.#offset = redisNow - (asked + replied) / 2;
      this.#bound = bound;
      this.#sampledAt = replied;
    }
  }

  /** The latest local instant that Redis's `redisInstant` may be. */
  toLocal(redisInstant: number): number {
    return redisInstant - this.#offset + this.#agedBound(this.#time.now());
  }

  #agedBound(at: number): number {
    return this.#bound + Math.max(0, at - this.#sampledAt) * DRIFT_PER_MS;
  }
}

function requirePositive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new AppError(
      "INVALID_CONFIGURATION",
      `${name} must be a positive ${integer ? "integer" : "number"}`,
      { retryable: false },
    );
  }
  return value;
}

function unavailable(error: unknown): AppError {
  // The job backs off and retries: no Identity Center call goes out without a slot.
  return new AppError("RATE_LIMITER_UNAVAILABLE", "Could not reach the shared rate limiter", {
    retryable: true,
    cause: error,
  });
}

/**
 * A `RateLimiter` shared by every process that uses the same Redis and prefix, so that all workers
 * together stay inside Identity Center's quotas (20 calls/s shared by all its APIs, 10 outstanding
 * creations by default). Create one per process, like the in-process limiter it replaces.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const { redis, logger } = options;
  const prefix = validatePrefix(options.prefix ?? DEFAULT_PREFIX);
  const intervalMs = 1000 / requirePositive("callsPerSecond", options.callsPerSecond ?? 18, false);
  const maxCreations = requirePositive(
    "maxOutstandingCreations",
    options.maxOutstandingCreations ?? 10,
    true,
  );
  const permitTtlMs = requirePositive("creationPermitTtlMs", options.creationPermitTtlMs ?? 30_000, true);
  const time = options.time ?? systemTime;
  const maxLatenessMs = options.maxLatenessMs ?? MAX_LATENESS_MS;
  const nextSlotKey = `${prefix}:rate-limit:next-slot`;
  const permitsKey = `${prefix}:rate-limit:creation-permits`;

  const redisClock = new RedisClock(time);
  const takePermit = (permit: string) =>
    runScript(redis, permitScript, [permitsKey], [permit, maxCreations, permitTtlMs]);

  return {
    async acquire(kind) {
      const horizon = HORIZON_INTERVALS[kind] < 0 ? -1 : HORIZON_INTERVALS[kind] * intervalMs;
      let lateSlots = 0;
      for (;;) {
        const asked = time.now();
        let answer: { granted: boolean; waitMs: number; redisNow: number };
        try {
          answer = await runScript(redis, acquireScript, [nextSlotKey], [intervalMs, horizon]);
        } catch (error) {
          throw unavailable(error);
        }
        redisClock.sample(asked, time.now(), answer.redisNow);
        if (!answer.granted) {
          await time.sleep(Math.max(MIN_RETRY_MS, answer.waitMs));
          continue;
        }
        // The slot is an instant of Redis's clock: mapped onto ours, never early (RedisClock).
        const due = redisClock.toLocal(answer.redisNow + answer.waitMs);
        const wait = due - time.now();
        if (wait > 0) {
          await time.sleep(wait);
        }
        // A caller that wakes well after its slot (a stalled process, an overloaded machine) would
        // send together with the holders of the next slots, and AWS counts arrivals: it gives the
        // slot up and takes a new one. Bounded, so that a process stalled all the time still sends.
        if (time.now() - due <= maxLatenessMs || lateSlots >= MAX_LATE_SLOTS) {
          return;
        }
        lateSlots++;
        logger?.debug(
          { kind, lateMs: Math.round(time.now() - due) },
          "woke late for a rate-limit slot; taking another",
        );
      }
    },

    async withCreationSlot(run) {
      const permit = randomUUID();
      for (;;) {
        let answer: { granted: boolean; waitMs: number; redisNow: number };
        try {
          answer = await takePermit(permit);
        } catch (error) {
          throw unavailable(error);
        }
        if (answer.granted) {
          break;
        }
        await time.sleep(Math.min(PERMIT_POLL_MS, Math.max(MIN_RETRY_MS, answer.waitMs)));
      }
      const heartbeat = setInterval(() => {
        takePermit(permit).then(
          ({ granted }) => {
            if (!granted) {
              // It lapsed (the process stalled past the TTL) and others took the room; this
              // creation is over quota until it ends, and AWS throttling absorbs the excess.
              logger?.warn({ permitsKey }, "creation permit lapsed and could not be renewed");
            }
          },
          (error: unknown) => {
            // The next beat tries again; if Redis stays away the permit expires, as it should.
            logger?.warn({ err: error, permitsKey }, "could not renew a creation permit");
          },
        );
      }, permitTtlMs / 3);
      // A pending renewal must not keep a process that is otherwise done alive.
      heartbeat.unref();
      try {
        return await run();
      } finally {
        clearInterval(heartbeat);
        try {
          await redis.zrem(permitsKey, permit);
        } catch (error) {
          // The permit expires on its own; the result of `run` matters more than the early release.
          logger?.warn({ err: error, permitsKey }, "could not release a creation permit");
        }
      }
    },
  };
}
