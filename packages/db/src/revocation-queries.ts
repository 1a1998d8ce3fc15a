import type { Db } from "./prisma-types.js";

/**
 * Assignments AWS may still hold for someone whose access ended before `endedBefore`: Keyturn's
 * own, with no live lease, last seen present or with a change unconfirmed, and whose last lease
 * ended (or was released) before then. The revocation backstop's question: what is overdue,
 * whatever happened to the jobs that should have removed it.
 */
export async function overdueRemovals(db: Db, input: { now: Date; endedBefore: Date; limit?: number }) {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT a.id FROM "Assignment" a
      WHERE a.origin = 'keyturn' AND a."provisionIntentAt" IS NOT NULL
        AND (a."observedPresent" IS NOT FALSE OR a."pendingOperation" IS NOT NULL)
        AND NOT EXISTS (
          SELECT 1 FROM "Lease" l
          WHERE l."assignmentId" = a.id AND l."releasedAt" IS NULL AND l."endsAt" > ${input.now}
        )
        AND (
          SELECT max(least(l."endsAt", coalesce(l."releasedAt", l."endsAt"))) FROM "Lease" l
          WHERE l."assignmentId" = a.id
        ) <= ${input.endedBefore}
      ORDER BY a.id
      LIMIT ${input.limit ?? 1000}`;
  return rows.map((row) => row.id);
}
