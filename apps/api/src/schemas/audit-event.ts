import type { AuditEvent } from "@keyturn/db";
import { z } from "zod";

export const AuditEventSchema = z
  .object({
    seq: z.string().meta({ description: "Position in the chain (a 64-bit integer, as a string)" }),
    id: z.string(),
    at: z.string().meta({ format: "date-time" }),
    actor: z.object({ type: z.string(), id: z.string() }),
    action: z.string(),
    requestId: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({
    id: "AuditEvent",
    description: "One link of the hash chain: hash = sha256(prevHash + canonical JSON)",
  });

export type AuditEventJson = z.infer<typeof AuditEventSchema>;

export function toAuditEventJson(event: AuditEvent): AuditEventJson {
  return {
    seq: event.seq.toString(),
    id: event.id,
    at: event.at.toISOString(),
    actor: { type: event.actorType, id: event.actorId },
    action: event.action,
    requestId: event.requestId,
    data:
      typeof event.data === "object" && event.data !== null && !Array.isArray(event.data) ? event.data : {},
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
