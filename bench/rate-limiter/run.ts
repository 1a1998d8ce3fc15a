// Rate-limiter margins: how close the Redis-shared Identity Center limiter runs to its configured
// rate, and how far under AWS's 20 calls/s its busiest second stays.
//
//   pnpm exec tsx bench/rate-limiter/run.ts [--calls 400] [--processes 2] [--calls-per-second 18]
//
// The test suite asserts only AWS's quota (at most 20 calls in any 1 s window, counted as calls
// go out: redis-rate-limiter.int.test.ts). These are the figures that depend on the machine: the
// share of the configured rate achieved (a limiter that wastes slots drains a burst of removals
// more slowly), the busiest 1 s window (19 by design at 18/s, leaving one call of room for the
// SDK's own delay between the limiter and the wire), and the slots given up because a caller woke
// more than 40 ms after its slot. Each "process" is a Redis connection of its own sharing only the
// key prefix, as worker processes do; calls are all queued at once, as a burst of removals is.
import { parseArgs } from "node:util";
import { createRedisConnection, createRedisRateLimiter } from "../../packages/queue/src/index.js";
import { type BenchRow, printBenchResult } from "../support/report.js";
import { cleanUp, onCleanUp, REDIS_URL, scratchRedisPrefix } from "../support/scratch.js";

const AWS_QUOTA_PER_SECOND = 20;

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "400" },
    processes: { type: "string", default: "2" },
    "calls-per-second": { type: "string", default: "18" },
  },
});
const calls = Number(values.calls);
const processes = Number(values.processes);
const callsPerSecond = Number(values["calls-per-second"]);
if (!(calls > 1) || !(processes > 0) || !(callsPerSecond > 0)) {
  console.error("--calls > 1, --processes > 0 and --calls-per-second > 0 are required");
  process.exit(2);
}

/** The most calls that went out within any half-open window [t, t + windowMs). */
function maxInAnyWindow(sorted: readonly number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) {
      start++;
    }
    max = Math.max(max, end - start + 1);
  }
  return max;
}

async function main(): Promise<BenchRow[]> {
  const prefix = scratchRedisPrefix("rate-limiter");
  let givenUp = 0;
  const logger = {
    debug: () => {
      givenUp++;
    },
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const limiters = Array.from({ length: processes }, () => {
    const redis = createRedisConnection(REDIS_URL, "worker");
    onCleanUp("redis connection", () => redis.quit());
    return createRedisRateLimiter({ redis, prefix, callsPerSecond, logger });
  });
  const sent: number[] = [];
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      await limiters[i % processes]?.acquire("removal");
      sent.push(performance.now());
    }),
  );
  sent.sort((a, b) => a - b);
  const spanMs = (sent.at(-1) ?? 0) - (sent[0] ?? 0);
  const rate = ((sent.length - 1) * 1000) / spanMs;
  const busiest = maxInAnyWindow(sent, 1000);
  const designBusiest = Math.floor((1000 + 40) / (1000 / callsPerSecond)) + 1;
  console.log(
    `rate limiter: ${calls} removals from ${processes} connection(s) at ${callsPerSecond}/s configured\n` +
      `  achieved ${rate.toFixed(2)} calls/s (${((100 * rate) / callsPerSecond).toFixed(1)}% of configured), ` +
      `busiest 1 s window ${busiest} calls (design ${designBusiest}, AWS ${AWS_QUOTA_PER_SECOND}), ` +
      `${givenUp} slot(s) given up by late callers`,
  );
  return [
    {
      metric: "rate limiter: share of the configured rate",
      figure: `${((100 * rate) / callsPerSecond).toFixed(1)}% (${rate.toFixed(2)}/s)`,
      target: ">= 90%",
      met: rate >= 0.9 * callsPerSecond,
    },
    {
      metric: "rate limiter: busiest 1 s window",
      figure: `${busiest} calls`,
      target: `<= ${designBusiest} (AWS: ${AWS_QUOTA_PER_SECOND})`,
      met: busiest <= designBusiest,
    },
    {
      metric: "rate limiter: slots given up by late callers",
      figure: String(givenUp),
      target: "",
      met: null,
    },
  ];
}

try {
  const rows = await main();
  await cleanUp();
  printBenchResult("rate-limiter", rows);
} catch (error) {
  console.error(error);
  await cleanUp();
  process.exit(1);
}
