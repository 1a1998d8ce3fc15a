import type { Outbox } from "@keyturn/usecases";
import type { Prisma } from "./generated/prisma/client.js";
import type { Db, Tx } from "./prisma-types.js";

export function createOutbox(tx: Tx, ids: { uuid(): string }, now: () => Date): Outbox {
  return {
    async add(message) {
      const at = now();
      await tx.outboxMessage.create({
        data: {
          id: ids.uuid(),
          topic: message.topic,
          key: message.key,
          payload: message.payload as Prisma.InputJsonValue,
          createdAt: at,
          availableAt: message.availableAt ?? at,
        },
      });
    },
  };
}

/** Unsent messages in commit order, for the relay (and for tests). */
export function pendingOutbox(db: Db, limit = 100) {
  return db.outboxMessage.findMany({ where: { sentAt: null }, orderBy: { createdAt: "asc" }, take: limit });
}
