// Shared by this package's integration tests; not exported from the package.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

export const REDIS_URL = process.env.KEYTURN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix of our own: tests share one Redis, and cleanup deletes exactly these keys. */
export function testPrefix(): string {
  return `keyturn-test-${randomUUID().slice(0, 8)}`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) {
      deleted += await redis.unlink(...keys);
    }
  } while (cursor !== "0");
  return deleted;
}

export type Deferred<T> = { promise: Promise<T>; resolve(value: T): void };

export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Records events and lets a test await the first one matching a predicate, past or future. */
export function eventLog<E>() {
  const seen: E[] = [];
  const waiters: Array<{ match: (event: E) => boolean; resolve: (event: E) => void }> = [];
  return {
    seen,
    record(event: E): void {
      seen.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
    next(match: (event: E) => boolean): Promise<E> {
      const found = seen.find(match);
      if (found !== undefined) {
        return Promise.resolve(found);
      }
      return new Promise<E>((resolve) => {
        waiters.push({ match, resolve });
      });
    },
  };
}
