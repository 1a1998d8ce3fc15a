import {
  type Db,
  listenForOutbox,
  markOutboxDead,
  markOutboxFailed,
  markOutboxSent,
  pendingOutbox,
} from "@keyturn/db";
import type { Logger } from "@keyturn/observability";
import { AppError } from "@keyturn/usecases";

/** Where relayed messages go: the job queue, deduplicated by `key`. */
export type JobSink = {
  enqueue(message: { topic: string; key: string; payload: unknown; availableAt: Date }): Promise<void>;
};

/**
 * One pass: read unsent rows, enqueue each, then mark them sent. Redis is never written inside a
 * database transaction, and a crash between enqueue and mark only means the row is relayed
 * again — the queue deduplicates by key, and every handler is idempotent (at-least-once).
 */
async function relayOutboxOnce(input: {
  db: Db;
  sink: JobSink;
  now: () => Date;
  batchSize?: number;
  logger?: Logger;
}): Promise<number> {
  const rows = await pendingOutbox(input.db, input.batchSize ?? 200);
  const sent: string[] = [];
  for (const row of rows) {
    try {
      await input.sink.enqueue({
        topic: row.topic,
        key: row.key,
        payload: row.payload,
        availableAt: row.availableAt,
      });
      sent.push(row.id);
    } catch (error) {
      if (error instanceof AppError && !error.retryable) {
        // This message can never become a job (unknown topic, invalid payload): set it aside,
        // visibly, instead of blocking every message behind it.
        input.logger?.error(
          { err: error, outboxId: row.id, topic: row.topic },
          "outbox message refused by the queue",
        );
        await markOutboxDead(input.db, row.id, error.message, input.now());
        continue;
      }
      // Redis down: keep the row, count the attempt, stop this pass (order is kept for the next).
      input.logger?.warn(
        { err: error, outboxId: row.id, topic: row.topic },
        "outbox relay could not enqueue",
      );
      await markOutboxFailed(input.db, row.id, error instanceof Error ? error.message : String(error)).catch(
        () => undefined,
      );
      break;
    }
  }
  if (sent.length > 0) {
    await markOutboxSent(input.db, sent, input.now());
  }
  return sent.length;
}

/**
 * Relays as soon as a transaction that wrote the outbox commits (LISTEN/NOTIFY), and polls as a
 * safety net for missed notifications and for rows left behind while Redis or PostgreSQL was down.
 */
export function startOutboxRelay(input: {
  db: Db;
  databaseUrl: string;
  sink: JobSink;
  now: () => Date;
  pollIntervalMs: number;
  logger: Logger;
}): { close(): Promise<void>; drain(): Promise<void> } {
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const pass = (): Promise<void> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const count = await relayOutboxOnce(input);
          // A full batch means there is probably more waiting.
          again = again || count >= 200;
        } while (again && !closed);
      } catch (error) {
        input.logger.warn({ err: error }, "outbox relay pass failed; will retry");
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const listener = listenForOutbox(
    input.databaseUrl,
    () => void pass(),
    (error) => input.logger.warn({ err: error }, "outbox listener lost its connection; reconnecting"),
  );
  const timer = setInterval(() => void pass(), input.pollIntervalMs);
  return {
    drain: pass,
    async close() {
      closed = true;
      clearInterval(timer);
      await listener.close();
      await running;
    },
  };
}
