import type { Outbox } from "@keyturn/usecases";
import pg from "pg";
import type { Prisma } from "./generated/prisma/client.js";
import type { Db, Tx } from "./prisma-types.js";

export const OUTBOX_CHANNEL = "keyturn_outbox";

export function createOutbox(tx: Tx, ids: { uuid(): string }, now: () => Date): Outbox {
  return {
    async add(message) {
      const at = now();
      const data = {
        id: ids.uuid(),
        topic: message.topic,
        key: message.key,
        payload: message.payload as Prisma.InputJsonValue,
        createdAt: at,
        availableAt: message.availableAt ?? at,
      };
      if (message.ifAbsent === true) {
        // ON CONFLICT (key) DO NOTHING: the message already written stands.
        await tx.outboxMessage.createMany({ data: [data], skipDuplicates: true });
      } else {
        await tx.outboxMessage.create({ data });
      }
      // Delivered at commit (never for a rolled-back transaction): wakes the relay at once.
      await tx.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, ${message.topic})`;
    },
  };
}

/** Unsent messages in commit order, for the relay (and for tests). */
export function pendingOutbox(db: Db, limit = 100) {
  return db.outboxMessage.findMany({ where: { sentAt: null }, orderBy: { createdAt: "asc" }, take: limit });
}

export async function markOutboxSent(db: Db, ids: string[], at: Date): Promise<void> {
  await db.outboxMessage.updateMany({ where: { id: { in: ids }, sentAt: null }, data: { sentAt: at } });
}

/** A message that can never be relayed: marked handled, with the reason kept for operators. */
export async function markOutboxDead(db: Db, id: string, error: string, at: Date): Promise<void> {
  await db.outboxMessage.update({
    where: { id },
    data: { sentAt: at, attempts: { increment: 1 }, lastError: `refused: ${error}`.slice(0, 2000) },
  });
}

export async function markOutboxFailed(db: Db, id: string, error: string): Promise<void> {
  await db.outboxMessage.update({
    where: { id },
    data: { attempts: { increment: 1 }, lastError: error.slice(0, 2000) },
  });
}

/**
 * Calls `onMessage` whenever a transaction that wrote to the outbox commits. A dedicated pg
 * connection (LISTEN needs a session, which pooled Prisma connections are not); it reconnects
 * after errors so a PostgreSQL restart does not leave the relay deaf — the relay's own polling
 * covers the gap.
 */
export function listenForOutbox(
  databaseUrl: string,
  onMessage: () => void,
  onError: (error: unknown) => void = () => undefined,
): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on("notification", () => onMessage());
    next.on("error", (error) => {
      onError(error);
      reconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
      client = next;
      onMessage();
    } catch (error) {
      onError(error);
      await next.end().catch(() => undefined);
      reconnect();
    }
  };
  const reconnect = () => {
    client = undefined;
    if (!closed && retry === undefined) {
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, 1000);
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
