import { setTimeout as delay } from "node:timers/promises";

/**
 * Milliseconds and waiting, injectable so the limiter, the retry backoff and the status polling
 * can be driven by a fake clock in unit tests. `now` only needs to be monotonic, not wall time.
 */
export type TimeSource = {
  now(): number;
  sleep(ms: number): Promise<void>;
};

export const systemTime: TimeSource = {
  now: () => performance.now(),
  sleep: async (ms) => {
    await delay(Math.max(0, Math.ceil(ms)));
  },
};
