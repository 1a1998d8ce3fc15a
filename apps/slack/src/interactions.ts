import { createHash } from "node:crypto";

// Slack redelivers an interaction it thinks went unanswered (X-Slack-Retry-Num), signed afresh, so
// the request guard lets it through as a new request. One interaction must still be processed
// once: the first delivery runs the listener; a later one with the same key gets the same
// acknowledgement (say, the same inline errors) and nothing else happens.
//
// The memory is per process. Across replicas, a redelivered submission still makes one request
// through its idempotency key, and a repeated click meets a request already decided.

const FIRST_ACK_WAIT_MS = 2500;

type Entry = { expires: number; acked: Promise<unknown> };

export type InteractionLog = {
  /** Runs `listener` for the first delivery of `key`; later ones answer with the first's ack. */
  once<A extends { ack: (...args: never[]) => Promise<void> }>(
    keyOf: (args: A) => string | undefined,
    listener: (args: A) => Promise<void>,
  ): (args: A) => Promise<void>;
  size(): number;
};

export function createInteractionLog(
  options: {
    now?: () => number;
    ttlMs?: number;
    maxEntries?: number;
    logger?: { info(fields: Record<string, unknown>, message: string): void };
  } = {},
): InteractionLog {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 15 * 60 * 1000;
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, Entry>();

  const prune = (at: number) => {
    for (const [key, entry] of entries) {
      if (entry.expires > at && entries.size <= maxEntries) {
        break;
      }
      entries.delete(key);
    }
  };

  return {
    size: () => entries.size,
    once(keyOf, listener) {
      return async (args) => {
        const key = keyOf(args);
        if (key === undefined) {
          await listener(args);
          return;
        }
        const at = now();
        prune(at);
        const earlier = entries.get(key);
        type Ack = typeof args.ack;
        if (earlier !== undefined) {
          options.logger?.info({ interaction: key.split(":")[0] }, "skipped a redelivered Slack interaction");
          const timeout = new Promise<undefined>((resolve) =>
            setTimeout(() => resolve(undefined), FIRST_ACK_WAIT_MS).unref(),
          );
          const response = await Promise.race([earlier.acked, timeout]);
          await (args.ack as (response?: unknown) => Promise<void>)(response);
          return;
        }
        let settle: (response: unknown) => void = () => undefined;
        const acked = new Promise<unknown>((resolve) => {
          settle = resolve;
        });
        entries.set(key, { expires: at + ttlMs, acked });
        const original = args.ack as (response?: unknown) => Promise<void>;
        const ack = (async (response?: unknown) => {
          settle(response);
          await original(response);
        }) as Ack;
        try {
          await listener({ ...args, ack });
        } catch (error) {
          // Not processed: a redelivery may try again.
          entries.delete(key);
          settle(undefined);
          throw error;
        }
      };
    },
  };
}

/** A stable digest of a submitted view's input, so a corrected resubmission is not a duplicate. */
export function stateDigest(values: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(values ?? null))
    .digest("base64url")
    .slice(0, 22);
}
