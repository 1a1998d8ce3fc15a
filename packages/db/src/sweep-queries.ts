import type { Db } from "./prisma-types.js";

/**
 * The safety net behind the delayed jobs: every assignment whose state in AWS may disagree with
 * its leases. It is derived from the rows alone, so it finds what a lost Redis job would have done:
 * leases past their end on active requests, approved requests not yet active, and assignments of
 * Keyturn's own that no live lease holds and that were last seen present or whose last change is
 * unconfirmed (observedPresent NULL: a create or delete in flight when its worker died).
 */
export async function assignmentsNeedingReconcile(db: Db, now: Date, limit = 1000): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT l."assignmentId" AS id FROM "Lease" l JOIN "AccessRequest" r ON r.id = l."requestId"
      WHERE (r.status = 'active' AND l."releasedAt" IS NULL AND l."endsAt" <= ${now})
         OR r.status = 'approved'
    UNION
    SELECT a.id FROM "Assignment" a
      WHERE a.origin = 'keyturn' AND a."provisionIntentAt" IS NOT NULL
        AND a."observedPresent" IS NOT FALSE
        AND NOT EXISTS (
          SELECT 1 FROM "Lease" l
          WHERE l."assignmentId" = a.id AND l."releasedAt" IS NULL AND l."endsAt" > ${now}
        )
    LIMIT ${limit}`;
  return rows.map((row) => row.id);
}

export async function pendingRequestsPastTimeout(db: Db, now: Date, limit = 1000): Promise<string[]> {
  const rows = await db.accessRequest.findMany({
    where: { status: "pending", pendingUntil: { lte: now } },
    select: { id: true },
    take: limit,
  });
  return rows.map((row) => row.id);
}

/**
 * Pending requests of flows with on-call approval whose check has not been recorded `graceMs`
 * after they were made (its job lost with Redis, or still failing): the sweep asks again, so a
 * request never waits unseen by its approvers for a check that is not coming.
 */
export async function pendingOnCallChecks(
  db: Db,
  now: Date,
  graceMs: number,
  limit = 1000,
): Promise<string[]> {
  const before = new Date(now.getTime() - graceMs);
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT r.id::text AS id FROM "AccessRequest" r
    JOIN "FlowVersion" f ON f."flowName" = r."flowName" AND f.version = r."flowVersion"
    WHERE r.status = 'pending' AND r."onCallCheckedAt" IS NULL AND r."createdAt" <= ${before}
      AND f.rules ? 'onCallApproval'
    LIMIT ${limit}`;
  return rows.map((row) => row.id);
}
