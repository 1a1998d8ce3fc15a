import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createAfterAckQueue } from "./after-ack-queue.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A task that records when it started and finishes when told. */
function task(log: string[], name: string) {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    work: async () => {
      log.push(name);
      await done;
    },
    finish: () => finish(),
  };
}

describe("the after-ack queue", () => {
  it("holds work while requests wait for their answer, and until the receiver has been quiet", async () => {
    const queue = createAfterAckQueue({ quietMs: 50 });
    const log: string[] = [];
    queue.requestStarted();
    queue.requestStarted();
    void queue.run(task(log, "a").work);
    await vi.advanceTimersByTimeAsync(20);
    queue.requestFinished();
    await vi.advanceTimersByTimeAsync(10);
    expect(log).toEqual([]);
    queue.requestFinished();
    await vi.advanceTimersByTimeAsync(10);
    // Answered, but a request arrived 40 ms ago: the burst may not be over.
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(15);
    expect(log).toEqual(["a"]);
  });

  it("runs urgent work first and at most `concurrency` tasks at once", async () => {
    const queue = createAfterAckQueue({ concurrency: 2, quietMs: 0 });
    const log: string[] = [];
    const tasks = ["n1", "n2", "u1", "u2"].map((name) => ({ name, ...task(log, name) }));
    for (const t of tasks) {
      void queue.run(t.work, { urgent: t.name.startsWith("u") });
    }
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(["u1", "u2"]);
    expect(queue.stats()).toEqual({ waitingForAck: 0, queued: 2, running: 2 });
    tasks[2]?.finish();
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(["u1", "u2", "n1"]);
  });

  it("lets overdue work trickle through, one task at a time, while the receiver stays busy", async () => {
    const queue = createAfterAckQueue({ urgentDueMs: 300, dueMs: 1000 });
    const log: string[] = [];
    queue.requestStarted();
    const a = task(log, "urgent-a");
    void queue.run(a.work, { urgent: true });
    void queue.run(task(log, "urgent-b").work, { urgent: true });
    void queue.run(task(log, "normal").work);
    await vi.advanceTimersByTimeAsync(299);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(log).toEqual(["urgent-a"]);
    a.finish();
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(["urgent-a", "urgent-b"]);
  });

  it("passes results and errors through", async () => {
    const queue = createAfterAckQueue({ quietMs: 0 });
    const ok = queue.run(async () => 42);
    const failed = expect(
      queue.run(async () => {
        throw new Error("nope");
      }),
    ).rejects.toThrow("nope");
    await vi.advanceTimersByTimeAsync(1);
    await expect(ok).resolves.toBe(42);
    await failed;
  });
});

describe("draining the after-ack queue (on stop)", () => {
  it("resolves once the acknowledged work has finished, or gives up after the bound", async () => {
    const queue = createAfterAckQueue({ quietMs: 50 });
    const log: string[] = [];
    expect(await queue.drained(1000)).toBe(true);
    const first = task(log, "first");
    const second = task(log, "second");
    void queue.run(first.work);
    void queue.run(second.work);
    let drained: boolean | undefined;
    void queue.drained(5000).then((value) => {
      drained = value;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(log).toEqual(["first", "second"]);
    first.finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(drained).toBeUndefined();
    second.finish();
    await vi.advanceTimersByTimeAsync(10);
    expect(drained).toBe(true);

    const stuck = task(log, "stuck");
    void queue.run(stuck.work);
    const bounded = queue.drained(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await bounded).toBe(false);
    stuck.finish();
  });
});
