import { createHash } from "node:crypto";
import { canonicalJson } from "@keyturn/core";
import type { AuditEntry } from "@keyturn/usecases";
import type { Db, Tx } from "./prisma-types.js";

export const GENESIS_HASH = "0".repeat(64);
// Any constant works; it only has to be the same for every writer of the chain.
const AUDIT_CHAIN_LOCK = 7_253_414;

export type AuditRecord = {
  seq: bigint;
  id: string;
  at: Date;
  actorType: string;
  actorId: string;
  actorLabel: string | null;
  action: string;
  requestId: string | null;
  data: unknown;
  prevHash: string;
  hash: string;
};

/** What the hash covers: everything but the storage sequence number. */
export function auditHash(prevHash: string, event: Omit<AuditRecord, "seq" | "prevHash" | "hash">): string {
  const body = canonicalJson({
    id: event.id,
    at: event.at.toISOString(),
    actorType: event.actorType,
    actorId: event.actorId,
    actorLabel: event.actorLabel,
    action: event.action,
    requestId: event.requestId,
    data: event.data,
  });
  return createHash("sha256")
    .update(prevHash + body, "utf8")
    .digest("hex");
}

/**
 * Appends to the chain inside the caller's transaction. The advisory lock orders concurrent
 * writers, so each event's prevHash is the hash of the event committed just before it.
 */
export async function appendAudit(
  tx: Tx,
  entry: AuditEntry & { id: string; at: Date },
): Promise<{ id: string }> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
  const prevHash = last?.hash ?? GENESIS_HASH;
  const data = JSON.parse(canonicalJson(entry.data)) as object;
  const event = {
    id: entry.id,
    at: entry.at,
    actorType: entry.actor.type,
    actorId: entry.actor.id,
    actorLabel: entry.actor.label ?? null,
    action: entry.action,
    requestId: entry.requestId ?? null,
    data,
  };
  await tx.auditEvent.create({ data: { ...event, prevHash, hash: auditHash(prevHash, event) } });
  return { id: entry.id };
}

/** An audit event of a transaction that committed. */
export type CommittedAudit = AuditEntry & { id: string; at: Date };
/** Told, after each commit, the audit events it made (the apps log one line per state change). */
export type CommittedAuditObserver = (events: readonly CommittedAudit[]) => void;

/** Appends and remembers the event for the commit's observer. */
export async function recordAudit(
  tx: Tx,
  committed: CommittedAudit[],
  entry: CommittedAudit,
): Promise<{ id: string }> {
  const appended = await appendAudit(tx, entry);
  committed.push(entry);
  return appended;
}

/** Only after the commit: a rolled-back change was never made. An observer's fault is not ours. */
export function reportCommitted(
  observer: CommittedAuditObserver | undefined,
  events: CommittedAudit[],
): void {
  if (observer === undefined || events.length === 0) {
    return;
  }
  try {
    observer(events);
  } catch {
    // Logging must never turn a committed change into a failed one.
  }
}

export type ChainVerification =
  | { ok: true; events: number; head: string }
  | {
      ok: false;
      events: number;
      brokenAt: { seq: string; id: string; reason: "hash_mismatch" | "prev_hash_mismatch" };
    };

/** Walks the whole chain in order; the first event whose links do not hold is reported. */
export async function verifyAuditChain(db: Db, batchSize = 1000): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let after: bigint | undefined;
  let count = 0;
  for (;;) {
    const batch = await db.auditEvent.findMany({
      ...(after === undefined ? {} : { where: { seq: { gt: after } } }),
      orderBy: { seq: "asc" },
      take: batchSize,
    });
    for (const event of batch) {
      count += 1;
      const brokenAt = (reason: "hash_mismatch" | "prev_hash_mismatch") => ({
        ok: false as const,
        events: count,
        brokenAt: { seq: event.seq.toString(), id: event.id, reason },
      });
      if (event.prevHash !== prevHash) {
        return brokenAt("prev_hash_mismatch");
      }
      if (auditHash(prevHash, event) !== event.hash) {
        return brokenAt("hash_mismatch");
      }
      prevHash = event.hash;
    }
    const last = batch.at(-1);
    if (last === undefined || batch.length < batchSize) {
      return { ok: true, events: count, head: prevHash };
    }
    after = last.seq;
  }
}
