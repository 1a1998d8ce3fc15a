import type {
  AccessHolderQueries,
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
});

const toCutoff = (row: SessionCutoff): SessionCutoffRecord => ({
  identityStoreUserId: row.identityStoreUserId,
  accountId: row.accountId,
  permissionSetName: row.permissionSetName,
  until: row.until,
  createdAt: row.createdAt,
  removedAt: row.removedAt,
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
    async recordApplied({ name, hash, at }) {
      await tx.protectedBucket.update({
        where: { name },
        data: { lastAppliedHash: hash, lastAppliedAt: at, driftDetected: false, lastSeenHash: hash },
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
    async arm({ until, at, ...key }) {
      // Locks the row (or the gap) so two runs for one user cannot both decide to arm.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`session-cutoff:${key.identityStoreUserId}/${key.accountId}/${key.permissionSetName}`}))`;
      const current = await tx.sessionCutoff.findUnique({ where: where(key) });
      const inForce = current !== null && current.removedAt === null && current.until > at;
      if (current !== null && inForce && current.until >= until) {
        return { changed: false, record: toCutoff(current) };
      }
      // A cut-off still in force keeps its arming time; one that had ended is armed afresh.
      const row = await tx.sessionCutoff.upsert({
        where: where(key),
        create: { ...key, until, createdAt: at },
        update: { until, removedAt: null, ...(inForce ? {} : { createdAt: at }) },
      });
      return { changed: true, record: toCutoff(row) };
    },
    async remove({ at, ...key }) {
      const removed = await tx.sessionCutoff.updateMany({
        where: { ...key, removedAt: null },
        data: { removedAt: at },
      });
      return removed.count > 0;
    },
    async active(at) {
      const rows = await tx.sessionCutoff.findMany({
        where: { removedAt: null, until: { gt: at } },
        orderBy: [{ identityStoreUserId: "asc" }, { accountId: "asc" }, { permissionSetName: "asc" }],
      });
      return rows.map(toCutoff);
    },
    async due(at) {
      const rows = await tx.sessionCutoff.findMany({
        where: { removedAt: null, until: { lte: at } },
        orderBy: [{ until: "asc" }, { identityStoreUserId: "asc" }],
      });
      return rows.map(toCutoff);
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
      const row = await tx.assignment.findUnique({
        where: { id },
        include: {
          identity: { select: { email: true, identityStoreUserId: true } },
          leases: true,
          attempts: {
            where: { operation: "delete", outcome: "succeeded" },
            orderBy: { finishedAt: "desc" },
            take: 1,
          },
        },
      });
      if (row === null) {
        return null;
      }
      return {
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
      };
    },
  };
}
