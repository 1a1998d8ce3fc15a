import { describe, expect, it } from "vitest";
import { createInteractionLog, stateDigest } from "./interactions.js";

type Args = { key: string; ack: (response?: unknown) => Promise<void> };

function delivery(key: string) {
  const acks: unknown[] = [];
  const args: Args = {
    key,
    ack: async (response?: unknown) => {
      acks.push(response);
    },
  };
  return { args, acks };
}

describe("the interaction log", () => {
  it("runs the first delivery, and answers a redelivery with the first's ack without running it", async () => {
    const log = createInteractionLog();
    const runs: string[] = [];
    const handler = log.once<Args>(
      (a) => a.key,
      async (a) => {
        runs.push(a.key);
        await a.ack({ response_action: "errors", errors: { reason: "needed" } });
      },
    );
    const first = delivery("view:1");
    const again = delivery("view:1");
    await handler(first.args);
    await handler(again.args);
    expect(runs).toEqual(["view:1"]);
    expect(again.acks).toEqual(first.acks);
    expect(first.acks).toEqual([{ response_action: "errors", errors: { reason: "needed" } }]);
  });

  it("a redelivery that arrives while the first is still working waits for its ack", async () => {
    const log = createInteractionLog();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = log.once<Args>(
      (a) => a.key,
      async (a) => {
        await gate;
        await a.ack("done");
      },
    );
    const first = delivery("k");
    const again = delivery("k");
    const running = handler(first.args);
    const waiting = handler(again.args);
    release();
    await Promise.all([running, waiting]);
    expect(again.acks).toEqual(["done"]);
  });

  it("forgets a delivery whose listener threw, so a redelivery can try again", async () => {
    const log = createInteractionLog();
    let calls = 0;
    const handler = log.once<Args>(
      (a) => a.key,
      async () => {
        calls++;
        throw new Error("database down");
      },
    );
    await expect(handler(delivery("k").args)).rejects.toThrow("database down");
    await expect(handler(delivery("k").args)).rejects.toThrow("database down");
    expect(calls).toBe(2);
  });

  it("expires entries after the TTL and runs keyless deliveries every time", async () => {
    let now = 0;
    const log = createInteractionLog({ now: () => now, ttlMs: 1000 });
    let calls = 0;
    const handler = log.once<Args>(
      (a) => (a.key === "" ? undefined : a.key),
      async (a) => {
        calls++;
        await a.ack();
      },
    );
    await handler(delivery("k").args);
    now = 1001;
    await handler(delivery("k").args);
    await handler(delivery("").args);
    await handler(delivery("").args);
    expect(calls).toBe(4);
    expect(log.size()).toBe(1);
  });

  it("digests view state so a corrected resubmission differs from a retry", () => {
    const a = { reason: { r: { value: "x" } } };
    expect(stateDigest(a)).toBe(stateDigest(structuredClone(a)));
    expect(stateDigest(a)).not.toBe(stateDigest({ reason: { r: { value: "y" } } }));
  });
});
