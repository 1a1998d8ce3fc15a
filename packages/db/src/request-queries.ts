import type { RequestStatus } from "@keyturn/core";
import { storedFlowVersion } from "./flow-rules.js";
import { Prisma } from "./generated/prisma/client.js";
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

type ViewShape = {
  include: {
    requester: { select: { email: true; slackUserId: true } };
    reviews: { include: { reviewer: { select: { email: true } } } };
    lease: { select: { startsAt: true; endsAt: true; releasedAt: true; assignmentId: true } };
  };
};

/** A request with its requester, its reviews (oldest first, with the reviewer's email) and its lease. */
export type RequestView = Prisma.AccessRequestGetPayload<ViewShape>;
type ReviewView = RequestView["reviews"][number];

type ViewRow = Omit<RequestView, "requester" | "reviews" | "lease"> & {
  requesterEmail: string;
  requesterSlackUserId: string | null;
  leaseStartsAt: Date | null;
  leaseEndsAt: Date | null;
  leaseReleasedAt: Date | null;
  leaseAssignmentId: string | null;
  reviews: Array<Omit<ReviewView, "createdAt" | "reviewer"> & { createdAtMs: number; reviewerEmail: string }>;
};

/**
 * One statement for a page of views, where Prisma's includes took five (each a trip through its
 * query compiler, which cost the API more CPU than PostgreSQL spent answering). The page is chosen
 * first on (createdAt, id) alone, so that it can be read from an index before any row is fetched;
 * reviews come back as JSON, their times as epoch milliseconds so that no time zone is involved.
 */
function viewsSql(page: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT r.id, r."flowName", r."flowVersion", r."requesterId", r."accountId", r."permissionSetName",
      r.reason, r.ticket, r."durationSeconds", r.status::text AS status, r.source::text AS source,
      r."breakGlass", r."extensionCount", r."createdAt", r."updatedAt", r."pendingUntil",
      r."decidedAt", r."activatedAt", r."expiresAt", r."endedAt", r."failureReason", r.version,
      r."idempotencyKey", r."idempotencyFingerprint", r."ticketProvider", r."ticketTitle",
      r."ticketUrl", r."ticketState", r."endReason", r."notAfter", r."onCallCheckedAt",
      r."onCallOutcome", r."onCallNote",
      q.email AS "requesterEmail", q."slackUserId" AS "requesterSlackUserId",
      l."startsAt" AS "leaseStartsAt", l."endsAt" AS "leaseEndsAt",
      l."releasedAt" AS "leaseReleasedAt", l."assignmentId" AS "leaseAssignmentId",
      coalesce((
        SELECT json_agg(json_build_object(
            'id', v.id, 'requestId', v."requestId", 'reviewerId', v."reviewerId",
            'decision', v.decision, 'comment', v.comment, 'override', v.override,
            'createdAtMs', (extract(epoch FROM v."createdAt") * 1000)::bigint, 'reviewerEmail', e.email
          ) ORDER BY v."createdAt", v.id)
        FROM "Review" v JOIN "Identity" e ON e.id = v."reviewerId"
        WHERE v."requestId" = r.id
      ), '[]'::json) AS reviews
    FROM (${page}) page
    JOIN "AccessRequest" r ON r.id = page.id
    JOIN "Identity" q ON q.id = r."requesterId"
    LEFT JOIN "Lease" l ON l."requestId" = r.id
    ORDER BY page."createdAt" DESC, page.id DESC`;
}

// Field by field rather than by rest and spread: this runs for every row of every page, and V8
// builds literal objects several times faster.
function toView(row: ViewRow): RequestView {
  return {
    id: row.id,
    flowName: row.flowName,
    flowVersion: row.flowVersion,
    requesterId: row.requesterId,
    accountId: row.accountId,
    permissionSetName: row.permissionSetName,
    reason: row.reason,
    ticket: row.ticket,
    durationSeconds: row.durationSeconds,
    status: row.status,
    source: row.source,
    breakGlass: row.breakGlass,
    extensionCount: row.extensionCount,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    pendingUntil: row.pendingUntil,
    decidedAt: row.decidedAt,
    activatedAt: row.activatedAt,
    expiresAt: row.expiresAt,
    endedAt: row.endedAt,
    failureReason: row.failureReason,
    version: row.version,
    idempotencyKey: row.idempotencyKey,
    idempotencyFingerprint: row.idempotencyFingerprint,
    ticketProvider: row.ticketProvider,
    ticketTitle: row.ticketTitle,
    ticketUrl: row.ticketUrl,
    ticketState: row.ticketState,
    endReason: row.endReason,
    notAfter: row.notAfter,
    onCallCheckedAt: row.onCallCheckedAt,
    onCallOutcome: row.onCallOutcome,
    onCallNote: row.onCallNote,
    requester: { email: row.requesterEmail, slackUserId: row.requesterSlackUserId },
    reviews: row.reviews.map((review) => ({
      id: review.id,
      requestId: review.requestId,
      reviewerId: review.reviewerId,
      decision: review.decision,
      comment: review.comment,
      override: review.override,
      createdAt: new Date(review.createdAtMs),
      reviewer: { email: review.reviewerEmail },
    })),
    lease:
      row.leaseStartsAt === null || row.leaseEndsAt === null || row.leaseAssignmentId === null
        ? null
        : {
            startsAt: row.leaseStartsAt,
            endsAt: row.leaseEndsAt,
            releasedAt: row.leaseReleasedAt,
            assignmentId: row.leaseAssignmentId,
          },
  };
}

export async function getRequestView(db: Db, id: string): Promise<RequestView | null> {
  if (!isUuid(id)) {
    return null;
  }
  const rows = await db.$queryRaw<ViewRow[]>(
    viewsSql(Prisma.sql`SELECT id, "createdAt" FROM "AccessRequest" WHERE id = ${id}::uuid`),
  );
  const [row] = rows;
  return row === undefined ? null : toView(row);
}

/** The WHERE of a page: every filter, and the keyset bound of the cursor. */
function pageConditions(filter: RequestFilter, cursor: { createdAt: Date; id: string } | undefined) {
  const conditions: Prisma.Sql[] = [];
  if (filter.status !== undefined) {
    // A list of one becomes `status = $1`, which the (status, createdAt, id) index serves in order.
    conditions.push(
      filter.status.length === 0
        ? Prisma.sql`FALSE`
        : Prisma.sql`a.status IN (${Prisma.join(filter.status.map((s) => Prisma.sql`${s}::"RequestStatus"`))})`,
    );
  }
  if (filter.flowName !== undefined) {
    conditions.push(Prisma.sql`a."flowName" = ${filter.flowName}`);
  }
  if (filter.requesterEmail !== undefined) {
    conditions.push(
      Prisma.sql`a."requesterId" = (SELECT id FROM "Identity" WHERE email = ${filter.requesterEmail.toLowerCase()})`,
    );
  }
  if (filter.createdAfter !== undefined) {
    conditions.push(Prisma.sql`a."createdAt" >= ${filter.createdAfter}::timestamptz`);
  }
  if (filter.createdBefore !== undefined) {
    conditions.push(Prisma.sql`a."createdAt" < ${filter.createdBefore}::timestamptz`);
  }
  if (cursor !== undefined) {
    // A row comparison is an index condition of every (…, createdAt, id) index: a deep page starts
    // at its cursor instead of reading and discarding the newer rows.
    conditions.push(
      Prisma.sql`(a."createdAt", a.id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`,
    );
  }
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}`;
}

export async function listRequestViews(
  db: Db,
  input: { filter: RequestFilter; limit: number; cursor?: { createdAt: Date; id: string } },
): Promise<{ items: RequestView[]; nextCursor: string | null }> {
  const page = Prisma.sql`
    SELECT a.id, a."createdAt" FROM "AccessRequest" a ${pageConditions(input.filter, input.cursor)}
    ORDER BY a."createdAt" DESC, a.id DESC
    LIMIT ${input.limit + 1}`;
  const rows = await db.$queryRaw<ViewRow[]>(viewsSql(page));
  const items = rows.slice(0, input.limit).map(toView);
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
    return version === undefined ? [] : [{ flow, version: storedFlowVersion(version) }];
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
  return { flow, version: storedFlowVersion(version) };
}
