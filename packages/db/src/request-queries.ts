import type { RequestStatus } from "@keyturn/core";
import type { Prisma } from "./generated/prisma/client.js";
import type { Db } from "./prisma-types.js";
import { isUuid } from "./request-repository.js";

export type RequestFilter = {
  status?: RequestStatus[];
  flowName?: string;
  requesterEmail?: string;
  createdAfter?: Date;
  createdBefore?: Date;
};

type Cursor = { createdAt: string; id: string };

/** Opaque keyset cursors: stable under inserts, O(log n) at any depth, unlike offsets. */
export function encodeCursor(cursor: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ createdAt: cursor.createdAt.toISOString(), id: cursor.id })).toString(
    "base64url",
  );
}

export function decodeCursor(raw: string): { createdAt: Date; id: string } | null {
  try {
    const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof parsed.createdAt !== "string" || typeof parsed.id !== "string" || !isUuid(parsed.id)) {
      return null;
    }
    const createdAt = new Date(parsed.createdAt);
    return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id: parsed.id };
  } catch {
    return null;
  }
}

const include = {
  requester: { select: { email: true, slackUserId: true } },
  reviews: { include: { reviewer: { select: { email: true } } }, orderBy: { createdAt: "asc" } },
  lease: { select: { startsAt: true, endsAt: true, releasedAt: true, assignmentId: true } },
} satisfies Prisma.AccessRequestInclude;

export type RequestView = Prisma.AccessRequestGetPayload<{ include: typeof include }>;

export async function getRequestView(db: Db, id: string): Promise<RequestView | null> {
  return isUuid(id) ? db.accessRequest.findUnique({ where: { id }, include }) : null;
}

export async function listRequestViews(
  db: Db,
  input: { filter: RequestFilter; limit: number; cursor?: { createdAt: Date; id: string } },
): Promise<{ items: RequestView[]; nextCursor: string | null }> {
  const { filter, cursor } = input;
  const where: Prisma.AccessRequestWhereInput = {
    ...(filter.status === undefined ? {} : { status: { in: filter.status } }),
    ...(filter.flowName === undefined ? {} : { flowName: filter.flowName }),
    ...(filter.requesterEmail === undefined
      ? {}
      : { requester: { email: filter.requesterEmail.toLowerCase() } }),
    AND: [
      filter.createdAfter === undefined ? {} : { createdAt: { gte: filter.createdAfter } },
      filter.createdBefore === undefined ? {} : { createdAt: { lt: filter.createdBefore } },
      // Implied by the OR below, but PostgreSQL only bounds the index scan with a plain range: without
      // it, page n reads and discards the n * limit newer rows (bench/api-list, deep cursor pages).
      cursor === undefined ? {} : { createdAt: { lte: cursor.createdAt } },
      cursor === undefined
        ? {}
        : {
            OR: [
              { createdAt: { lt: cursor.createdAt } },
              { createdAt: cursor.createdAt, id: { lt: cursor.id } },
            ],
          },
    ],
  };
  const rows = await db.accessRequest.findMany({
    where,
    include,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
  });
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > input.limit && last !== undefined ? encodeCursor(last) : null };
}

export type AuditFilter = { requestId?: string; action?: string; afterSeq?: bigint };

export async function listAuditEvents(db: Db, input: { filter: AuditFilter; limit: number }) {
  const { filter } = input;
  const rows = await db.auditEvent.findMany({
    where: {
      ...(filter.requestId === undefined ? {} : { requestId: filter.requestId }),
      ...(filter.action === undefined ? {} : { action: filter.action }),
      ...(filter.afterSeq === undefined ? {} : { seq: { gt: filter.afterSeq } }),
    },
    orderBy: { seq: "asc" },
    take: input.limit + 1,
  });
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return { items, nextAfterSeq: rows.length > input.limit && last !== undefined ? last.seq : null };
}

export async function listFlows(db: Db) {
  const flows = await db.flow.findMany({ orderBy: { name: "asc" } });
  const versions = await db.flowVersion.findMany({
    where: { OR: flows.map((f) => ({ flowName: f.name, version: f.currentVersion })) },
  });
  const byName = new Map(versions.map((v) => [v.flowName, v]));
  return flows.flatMap((flow) => {
    const version = byName.get(flow.name);
    return version === undefined ? [] : [{ flow, version }];
  });
}

export async function getFlowView(db: Db, name: string) {
  const flow = await db.flow.findUnique({ where: { name } });
  if (flow === null) {
    return null;
  }
  const version = await db.flowVersion.findUniqueOrThrow({
    where: { flowName_version: { flowName: name, version: flow.currentVersion } },
  });
  return { flow, version };
}
