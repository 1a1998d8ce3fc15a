import { AppError } from "@keyturn/usecases";
import { systemTime, type TimeSource } from "./time-source.js";

// Identity Center's quotas (singlesignon/latest/userguide/limits.html): every sso-admin and
// identitystore call shares 20 calls/s, and at most 15 CreateAccountAssignment requests may be
// in progress at once. The limiter keeps one process inside both, so throttling is the exception
// our retries absorb, not the normal path. Several processes sharing the quota need a shared
// implementation of the same type (e.g. Redis-backed); adapters only see `RateLimiter`.

/**
 * What a call is for. When calls wait for the same token, removals go first (an ended lease must
 * not wait behind a burst of grants: DESIGN.md "removals go before creations"), then reads, then
 * creations. A creation's status poll is a creation; a deletion's is a read, so that queued
 * removals are sent before the polls of removals already sent.
 */
export type CallKind = "removal" | "read" | "creation";

export type RateLimiter = {
  /** Resolves when one call of this kind may be sent. Every attempt of every call acquires once. */
  acquire(kind: CallKind): Promise<void>;
  /**
   * Runs `run` holding one outstanding-creation slot: from before CreateAccountAssignment until its
   * status is terminal. The slot is released however `run` ends.
   */
  withCreationSlot<T>(run: () => Promise<T>): Promise<T>;
};

export type RateLimiterOptions = {
  /** Default 18: a margin under AWS's 20 calls/s. */
  callsPerSecond?: number;
  /**
   * Tokens that may accumulate while idle. A token bucket admits at most `burst + callsPerSecond`
   * calls in any 1 s window (a full bucket, then a second of refill), so the default of 1 keeps the
   * worst window at 19 with the default rate, under AWS's 20.
   */
  burst?: number;
  /**
   * Default 10: AWS documents both 10 (IAM Identity Center quotas page) and 15 (account access
   * manager quotas page) outstanding CreateAccountAssignment calls; the lower is the safe one.
   */
  maxOutstandingCreations?: number;
  time?: TimeSource;
};

// Highest priority first.
const PRIORITY: readonly CallKind[] = ["removal", "read", "creation"];

// Refill arithmetic is in floating point; a bucket that is short of a whole token by less than this
// after sleeping exactly the computed time counts as full, instead of sleeping again for 0 ms.
const EPSILON = 1e-9;

function requirePositive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new AppError(
      "INVALID_CONFIGURATION",
      `${name} must be a positive ${integer ? "integer" : "number"}`,
      {
        retryable: false,
      },
    );
  }
  return value;
}

class ProcessRateLimiter implements RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxCreations: number;
  readonly #time: TimeSource;
  #tokens: number;
  #refilledAt: number;
  #timerPending = false;
  readonly #waiting: Record<CallKind, Array<() => void>> = { removal: [], read: [], creation: [] };
  #creationsInFlight = 0;
  readonly #creationWaiters: Array<() => void> = [];

  constructor(options: RateLimiterOptions) {
    this.#ratePerMs = requirePositive("callsPerSecond", options.callsPerSecond ?? 18, false) / 1000;
    this.#burst = requirePositive("burst", options.burst ?? 1, true);
    this.#maxCreations = requirePositive(
      "maxOutstandingCreations",
      options.maxOutstandingCreations ?? 10,
      true,
    );
    this.#time = options.time ?? systemTime;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#time.now();
  }

  acquire(kind: CallKind): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting[kind].push(resolve);
      this.#grant();
    });
  }

  async withCreationSlot<T>(run: () => Promise<T>): Promise<T> {
    if (this.#creationsInFlight < this.#maxCreations) {
      this.#creationsInFlight++;
    } else {
      // The releasing caller hands its slot straight to us, so the count never dips and a
      // newcomer cannot overtake a waiter.
      await new Promise<void>((resolve) => {
        this.#creationWaiters.push(resolve);
      });
    }
    try {
      return await run();
    } finally {
      const next = this.#creationWaiters.shift();
      if (next === undefined) {
        this.#creationsInFlight--;
      } else {
        next();
      }
    }
  }

  #refill(): void {
    const now = this.#time.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs);
    this.#refilledAt = now;
  }

  #next(): (() => void) | undefined {
    for (const kind of PRIORITY) {
      const waiter = this.#waiting[kind].shift();
      if (waiter !== undefined) {
        return waiter;
      }
    }
    return undefined;
  }

  #hasWaiters(): boolean {
    return PRIORITY.some((kind) => this.#waiting[kind].length > 0);
  }

  /** Hands out whole tokens by priority, then sleeps until the next one if anyone still waits. */
  #grant(): void {
    this.#refill();
    while (this.#tokens >= 1 - EPSILON) {
      const waiter = this.#next();
      if (waiter === undefined) {
        break;
      }
      this.#tokens = Math.max(0, this.#tokens - 1);
      waiter();
    }
    if (!this.#hasWaiters() || this.#timerPending) {
      return;
    }
    // One timer for all waiters: whoever ranks first when it fires gets the token, which is what
    // lets a removal that arrived later overtake creations already waiting.
    this.#timerPending = true;
    const waitMs = (1 - this.#tokens) / this.#ratePerMs;
    void this.#time.sleep(waitMs).then(() => {
      this.#timerPending = false;
      this.#grant();
    });
  }
}

/**
 * A limiter for one process. Create one per process and pass it to every adapter that calls
 * sso-admin or identitystore, so that they share the quota.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  return new ProcessRateLimiter(options);
}
