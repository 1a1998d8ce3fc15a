import type {
  AccessHolderQueries,
  AssignmentForCutoff,
  BucketPolicySpec,
  ProtectedBucketRecord,
  ProtectedBucketRepository,
  SessionCutoffRecord,
  SessionCutoffRepository,
  SetHolder,
} from "@keyturn/usecases";
import type { Prisma, ProtectedBucket, SessionCutoff } from "./generated/prisma/client.js";
import type { Tx } from "./prisma-types.js";

const toBucket = (row: ProtectedBucket): ProtectedBucketRecord => ({
  name: row.name,
  accountId: row.accountId,
  // Written only by save() below, from a spec the engine validated.
  spec: row.spec as unknown as BucketPolicySpec,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  lastAppliedHash: row.lastAppliedHash,
  lastAppliedAt: row.lastAppliedAt,
  lastDriftCheckAt: row.lastDriftCheckAt,
  driftDetected: row.driftDetected,
  lastSeenHash: row.lastSeenHash,
  lastPutAt: row.lastPutAt,
  dirtySince: row.dirtySince,
  cutoffsRoleWide: row.cutoffsRoleWide,
  applyFailingSince: row.applyFailingSince,
  lastApplyError: row.lastApplyError,
});

const toCutoff = (row: SessionCutoff): SessionCutoffRecord => ({
  identityStoreUserId: row.identityStoreUserId,
  accountId: row.accountId,
  permissionSetName: row.permissionSetName,
  until: row.until,
  createdAt: row.createdAt,
  removedAt: row.removedAt,
  endedAt: row.endedAt,
  issuedBefore: row.issuedBefore,
  closedAt: row.closedAt,
  sessionDurationSeconds: row.sessionDurationSeconds,
  startsAt: row.startsAt,
});

export function createProtectedBucketRepository(tx: Tx): ProtectedBucketRepository {
  return {
    async find(name) {
      const row = await tx.protectedBucket.findUnique({ where: { name } });
      return row === null ? null : toBucket(row);
    },
    async lock(name) {
      // The advisory lock also serializes the first PUTs of a name, when there is no row to lock.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`protected-bucket:${name}`}))`;
      const rows = await tx.$queryRaw<{ name: string }[]>`
        SELECT name FROM "ProtectedBucket" WHERE name = ${name} FOR UPDATE`;
      if (rows.length === 0) {
        return null;
      }
      return toBucket(await tx.protectedBucket.findUniqueOrThrow({ where: { name } }));
    },
    async list() {
      return (await tx.protectedBucket.findMany({ orderBy: { name: "asc" } })).map(toBucket);
    },
    async save({ name, accountId, spec, at }) {
      const json = spec as unknown as Prisma.InputJsonValue;
      await tx.protectedBucket.upsert({
        where: { name },
        create: { name, accountId, spec: json, createdAt: at, updatedAt: at },
        update: { accountId, spec: json, updatedAt: at },
      });
    },
    async recordApplied({ name, hash, at, put, readAt, cutoffsRoleWide }) {
      await tx.protectedBucket.update({
        where: { name },
        data: {
          lastAppliedHash: hash,
          lastAppliedAt: at,
          driftDetected: false,
          lastSeenHash: hash,
          cutoffsRoleWide,
          applyFailingSince: null,
          lastApplyError: null,
          ...(put ? { lastPutAt: at } : {}),
        },
      });
      // A change committed after the apply read the cut-offs keeps the bucket dirty.
      await tx.protectedBucket.updateMany({
        where: { name, dirtySince: { lte: readAt } },
        data: { dirtySince: null },
      });
    },
    async recordApplyFailure({ name, at, startedAt, error }) {
      // An apply that succeeded after this one began has the last word (they run concurrently).
      await tx.$executeRaw`
        UPDATE "ProtectedBucket"
        SET "applyFailingSince" = COALESCE("applyFailingSince", ${at}), "lastApplyError" = ${error.slice(0, 2000)}
        WHERE name = ${name} AND ("lastAppliedAt" IS NULL OR "lastAppliedAt" < ${startedAt})`;
    },
    async markDirty({ names, at }) {
      await tx.protectedBucket.updateMany({
        where: { name: { in: [...names] }, dirtySince: null },
        data: { dirtySince: at },
      });
    },
    async recordDriftCheck({ name, at, driftDetected, liveHash }) {
      await tx.protectedBucket.update({
        where: { name },
        data: { lastDriftCheckAt: at, driftDetected, lastSeenHash: liveHash },
      });
    },
  };
}

export function createSessionCutoffRepository(tx: Tx): SessionCutoffRepository {
  const where = (key: { identityStoreUserId: string; accountId: string; permissionSetName: string }) => ({
    identityStoreUserId_accountId_permissionSetName: {
      identityStoreUserId: key.identityStoreUserId,
      accountId: key.accountId,
      permissionSetName: key.permissionSetName,
    },
  });
  return {
    async find(key) {
      const row = await tx.sessionCutoff.findUnique({ where: where(key) });
      return row === null ? null : toCutoff(row);
    },
    async save({ cutoffs, at }) {
      if (cutoffs.length === 0) {
        return;
      }
      const column = <T>(pick: (cutoff: (typeof cutoffs)[number]) => T) => cutoffs.map(pick);
      // One statement for hundreds of cut-offs: they are armed together when leases end together.
      // A cut-off still in force keeps its arming time; an ended one is armed afresh.
      await tx.$executeRaw`
        INSERT INTO "SessionCutoff" ("identityStoreUserId", "accountId", "permissionSetName", "until",
          "createdAt", "removedAt", "endedAt", "issuedBefore", "closedAt", "sessionDurationSeconds",
          "startsAt")
        SELECT u, a, p, t, ${at}, NULL, e, ib, c, d, s
        FROM unnest(
          ${column((c) => c.identityStoreUserId)}::text[], ${column((c) => c.accountId)}::text[],
          ${column((c) => c.permissionSetName)}::text[], ${column((c) => c.until)}::timestamptz[],
          ${column((c) => c.endedAt)}::timestamptz[], ${column((c) => c.issuedBefore)}::timestamptz[],
          ${column((c) => c.closedAt)}::timestamptz[], ${column((c) => c.sessionDurationSeconds)}::int[],
          ${column((c) => c.startsAt ?? null)}::timestamptz[]
        ) AS x(u, a, p, t, e, ib, c, d, s)
        ON CONFLICT ("identityStoreUserId", "accountId", "permissionSetName") DO UPDATE SET
          "until" = EXCLUDED."until",
          "startsAt" = EXCLUDED."startsAt",
          "endedAt" = EXCLUDED."endedAt",
          "issuedBefore" = EXCLUDED."issuedBefore",
          "closedAt" = EXCLUDED."closedAt",
          "sessionDurationSeconds" = EXCLUDED."sessionDurationSeconds",
          "createdAt" = CASE WHEN "SessionCutoff"."removedAt" IS NULL THEN "SessionCutoff"."createdAt"
                             ELSE EXCLUDED."createdAt" END,
          "removedAt" = NULL`;
    },
    async remove({ keys, at }) {
      let removed = 0;
      for (const key of keys) {
        const result = await tx.sessionCutoff.updateMany({
          where: {
            identityStoreUserId: key.identityStoreUserId,
            accountId: key.accountId,
            permissionSetName: key.permissionSetName,
            removedAt: null,
          },
          data: { removedAt: at },
        });
        removed += result.count;
      }
      return removed;
    },
    async active(at) {
      const rows = await tx.sessionCutoff.findMany({
        where: { removedAt: null, until: { gt: at } },
        orderBy: [{ identityStoreUserId: "asc" }, { accountId: "asc" }, { permissionSetName: "asc" }],
      });
      return rows.map(toCutoff);
    },
    async unended() {
      return (await tx.sessionCutoff.findMany({ where: { removedAt: null } })).map(toCutoff);
    },
  };
}

export function createAccessHolderQueries(tx: Tx): AccessHolderQueries {
  return {
    async holders({ accountId, permissionSetName, at }) {
      const assignments = await tx.assignment.findMany({
        where: { accountId, permissionSetName },
        include: {
          identity: { select: { email: true, identityStoreUserId: true } },
          leases: {
            where: {
              releasedAt: null,
              startsAt: { lte: at },
              endsAt: { gt: at },
              request: { status: "active" },
            },
            orderBy: { endsAt: "desc" },
          },
        },
      });
      const holders: SetHolder[] = [];
      for (const assignment of assignments) {
        const { email, identityStoreUserId } = assignment.identity;
        if (assignment.origin === "preexisting" && assignment.observedPresent !== false) {
          holders.push({ email, identityStoreUserId, source: "preexisting", requestId: null, until: null });
          continue;
        }
        // The latest-ending lease is the one that says until when the person holds the set.
        const lease = assignment.leases[0];
        if (lease !== undefined) {
          holders.push({
            email,
            identityStoreUserId,
            source: "lease",
            requestId: lease.requestId,
            until: lease.endsAt,
          });
        }
      }
      return holders.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
    },
    async assignment(id) {
      const [row] = await loadForCutoff(tx, { id });
      return row ?? null;
    },
    async cutoffCandidates({ since, now, prearmUntil, ids, withActiveCutoffs }) {
      const ended = await tx.lease.findMany({
        where: {
          OR: [{ endsAt: { gt: since, lte: prearmUntil ?? now } }, { releasedAt: { gt: since, lte: now } }],
        },
        select: { assignmentId: true },
      });
      const wanted = new Set([...(ids ?? []), ...ended.map((lease) => lease.assignmentId)]);
      // Pre-armed cut-offs are always looked at again: an extension or a new grant withdraws them.
      const prearmed = await tx.$queryRaw<{ id: string }[]>`
        SELECT a.id FROM "SessionCutoff" c
        JOIN "Identity" i ON i."identityStoreUserId" = c."identityStoreUserId"
        JOIN "Assignment" a ON a."identityId" = i.id AND a."accountId" = c."accountId"
          AND a."permissionSetName" = c."permissionSetName"
        WHERE c."removedAt" IS NULL AND c."startsAt" IS NOT NULL`;
      for (const row of prearmed) {
        wanted.add(row.id);
      }
      if (withActiveCutoffs === true) {
        const active = await tx.$queryRaw<{ id: string }[]>`
          SELECT a.id FROM "SessionCutoff" c
          JOIN "Identity" i ON i."identityStoreUserId" = c."identityStoreUserId"
          JOIN "Assignment" a ON a."identityId" = i.id AND a."accountId" = c."accountId"
            AND a."permissionSetName" = c."permissionSetName"
          WHERE c."removedAt" IS NULL`;
        for (const row of active) {
          wanted.add(row.id);
        }
      }
      return wanted.size === 0 ? [] : loadForCutoff(tx, { id: { in: [...wanted] } });
    },
  };
}

async function loadForCutoff(tx: Tx, where: Prisma.AssignmentWhereInput): Promise<AssignmentForCutoff[]> {
  const rows = await tx.assignment.findMany({
    where,
    include: {
      identity: { select: { email: true, identityStoreUserId: true, pinnedAt: true } },
      leases: true,
      attempts: {
        where: { operation: "delete", outcome: "succeeded" },
        orderBy: { finishedAt: "desc" },
        take: 1,
      },
    },
  });
  return rows.map((row) => ({
    id: row.id,
    accountId: row.accountId,
    permissionSetName: row.permissionSetName,
    origin: row.origin,
    identity: row.identity,
    provisionIntentAt: row.provisionIntentAt,
    observedPresent: row.observedPresent,
    leases: row.leases.map((lease) => ({
      requestId: lease.requestId,
      startsAt: lease.startsAt,
      endsAt: lease.endsAt,
      releasedAt: lease.releasedAt,
    })),
    lastRemovedAt: row.attempts[0]?.finishedAt ?? null,
  }));
}
