import { AppError } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { type CallKind, createRateLimiter } from "./rate-limiter.js";
import { fakeTime } from "./test-helpers.js";

function mostInAnyWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  for (const start of times) {
    best = Math.max(best, times.filter((t) => t >= start && t < start + windowMs).length);
  }
  return best;
}

describe("token bucket", () => {
  it("admits the configured rate and never more than burst + rate in any second", async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ callsPerSecond: 18, burst: 1, time });
    const granted: number[] = [];
    for (let i = 0; i < 100; i++) {
      void limiter.acquire("read").then(() => granted.push(time.now()));
    }
    await time.advance(0);
    expect(granted).toEqual([0]);

    // One token to start with, then one every 1000/18 ms (the extra ms absorbs float rounding).
    await time.advance(3001);
    expect(granted).toHaveLength(1 + 54);
    expect(mostInAnyWindow(granted, 1000)).toBeLessThanOrEqual(19);
    const gaps = granted.slice(1).map((t, i) => t - (granted[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / 18 - 1e-6);
  });

  it("lets a burst through after idling, then paces again", async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ callsPerSecond: 10, burst: 3, time });
    const granted: number[] = [];
    const take = (n: number) => {
      for (let i = 0; i < n; i++) {
        void limiter.acquire("read").then(() => granted.push(time.now()));
      }
    };
    take(5);
    await time.advance(0);
    expect(granted).toEqual([0, 0, 0]);
    await time.advance(200);
    expect(granted).toEqual([0, 0, 0, 100, 200]);
    // Idle long enough to refill, but never beyond the burst.
    await time.advance(10_000);
    take(4);
    await time.advance(0);
    expect(granted.slice(5)).toEqual([10_200, 10_200, 10_200]);
  });

  it("serves waiting removals first, then reads, then creations", async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ callsPerSecond: 10, burst: 1, time });
    await limiter.acquire("read"); // empties the bucket
    const order: string[] = [];
    const enqueue = (kind: CallKind, label: string) => {
      void limiter.acquire(kind).then(() => order.push(label));
    };
    enqueue("creation", "create-1");
    enqueue("creation", "create-2");
    enqueue("read", "read-1");
    enqueue("removal", "remove-1");
    await time.advance(50);
    // Arrives while the others wait, and still goes before every creation.
    enqueue("removal", "remove-2");
    await time.advance(1000);
    expect(order).toEqual(["remove-1", "remove-2", "read-1", "create-1", "create-2"]);
  });

  it("does not let a waiting creation take a token ahead of a removal that arrives at the same tick", async () => {
    const time = fakeTime();
    const limiter = createRateLimiter({ callsPerSecond: 5, burst: 1, time });
    await limiter.acquire("creation");
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      void limiter.acquire("creation").then(() => order.push(`c${i}`));
    }
    await time.advance(200); // c0
    for (let i = 0; i < 2; i++) {
      void limiter.acquire("removal").then(() => order.push(`r${i}`));
    }
    await time.advance(1000);
    expect(order).toEqual(["c0", "r0", "r1", "c1", "c2"]);
  });

  it("refuses nonsense settings with a non-retryable AppError", () => {
    for (const options of [{ callsPerSecond: 0 }, { burst: 0.5 }, { maxOutstandingCreations: -1 }]) {
      expect(() => createRateLimiter(options)).toThrow(AppError);
    }
  });
});

describe("outstanding creations", () => {
  type Deferred = { promise: Promise<string>; resolve(value: string): void; reject(error: Error): void };
  function deferred(): Deferred {
    let resolve: (value: string) => void = () => {};
    let reject: (error: Error) => void = () => {};
    const promise = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  it("holds at most the configured number of slots and releases them on completion and on failure", async () => {
    const limiter = createRateLimiter({ maxOutstandingCreations: 2 });
    const work = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = work.map((d, i) =>
      limiter.withCreationSlot(() => {
        started.push(i);
        return d.promise;
      }),
    );
    const settled = runs.map((run) => run.then(String, (error: Error) => `failed: ${error.message}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);

    work[0]?.resolve("done");
    expect(await settled[0]).toBe("done");
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);

    work[1]?.reject(new Error("boom"));
    expect(await settled[1]).toBe("failed: boom");
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2, 3]);

    work[2]?.resolve("two");
    work[3]?.resolve("three");
    expect(await Promise.all(settled.slice(2))).toEqual(["two", "three"]);
    // Every slot is free again.
    const free = await Promise.all([
      limiter.withCreationSlot(async () => "a"),
      limiter.withCreationSlot(async () => "b"),
    ]);
    expect(free).toEqual(["a", "b"]);
  });

  it("releases a slot when the work throws synchronously", async () => {
    const limiter = createRateLimiter({ maxOutstandingCreations: 1 });
    await expect(
      limiter.withCreationSlot(() => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    await expect(limiter.withCreationSlot(async () => "ok")).resolves.toBe("ok");
  });
});
