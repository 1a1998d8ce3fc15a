import type { ProtectedBucket } from "./generated/prisma/client.js";
import type { Db } from "./prisma-types.js";

// Reads the apps make outside any use case (views and metrics): the apps call these, never
// Prisma, so the queries stay in the database adapter next to the schema they depend on.

/** Resolves when the database answers a trivial query (readiness checks); rejects when it does not. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** A protected bucket as stored (spec, apply and drift state), or null when Keyturn has none. */
export function findProtectedBucket(db: Db, name: string): Promise<ProtectedBucket | null> {
  return db.protectedBucket.findUnique({ where: { name } });
}

/** Every protected bucket as stored, by name (a handful per installation). */
export function listProtectedBuckets(db: Db): Promise<ProtectedBucket[]> {
  return db.protectedBucket.findMany({ orderBy: { name: "asc" } });
}

/** Access requests by state and flow. */
export async function countRequestsByStatusAndFlow(
  db: Db,
): Promise<{ status: string; flowName: string; count: number }[]> {
  const groups = await db.accessRequest.groupBy({ by: ["status", "flowName"], _count: { _all: true } });
  return groups.map((group) => ({
    status: group.status,
    flowName: group.flowName,
    count: group._count._all,
  }));
}

/** Leases holding an assignment at `now`. */
export function countLiveLeases(db: Db, now: Date): Promise<number> {
  return db.lease.count({ where: { releasedAt: null, endsAt: { gt: now } } });
}

/** Quantiles of the seconds from submission to decision, over requests decided in the last 24 hours. */
export async function approvalTimeQuantiles(
  db: Db,
): Promise<{ p50: number | null; p90: number | null; p99: number | null }> {
  const rows = await db.$queryRaw<{ p50: number | null; p90: number | null; p99: number | null }[]>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY s) AS p99
    FROM (SELECT EXTRACT(EPOCH FROM ("decidedAt" - "createdAt"))::float8 AS s FROM "AccessRequest"
          WHERE "decidedAt" > now() - interval '24 hours') d`;
  return rows[0] ?? { p50: null, p90: null, p99: null };
}

/** When each lease of an assignment stopped needing it: its end, or its release if earlier. */
export async function leaseEndsOfAssignment(db: Db, assignmentId: string): Promise<Date[]> {
  const leases = await db.lease.findMany({
    where: { assignmentId },
    select: { endsAt: true, releasedAt: true },
  });
  return leases.map((lease) =>
    lease.releasedAt !== null && lease.releasedAt < lease.endsAt ? lease.releasedAt : lease.endsAt,
  );
}
