import type { ApiTokenRecord, ApiTokenRepository } from "@keyturn/usecases";
import type { ApiToken } from "./generated/prisma/client.js";
import type { Db, Tx } from "./prisma-types.js";

export const toTokenRecord = (row: ApiToken): ApiTokenRecord => ({
  id: row.id,
  name: row.name,
  ownerKind: row.ownerKind === "service" ? "service" : "person",
  owner: row.owner,
  prefix: row.prefix,
  scopes: row.scopes,
  createdAt: row.createdAt,
  createdBy: row.createdBy,
  expiresAt: row.expiresAt,
  lastUsedAt: row.lastUsedAt,
  revokedAt: row.revokedAt,
});

export function createApiTokenRepository(tx: Tx): ApiTokenRepository {
  return {
    async insert(token) {
      await tx.apiToken.create({ data: token });
    },
    async findById(id) {
      const row = await tx.apiToken.findUnique({ where: { id } });
      return row === null ? null : toTokenRecord(row);
    },
    async markRevoked(id, at) {
      await tx.apiToken.update({ where: { id }, data: { revokedAt: at } });
    },
  };
}

// Only record use once a minute: a write per API call would make reads contend on token rows.
const LAST_USED_GRANULARITY_MS = 60_000;

export async function findActiveTokenByHash(db: Db, hash: string, now: Date): Promise<ApiTokenRecord | null> {
  // Raw SQL: this runs before every API call, and a findUnique costs more than twice the CPU in
  // Prisma's query compiler (bench/api-list).
  const [row] = await db.$queryRaw<ApiToken[]>`SELECT * FROM "ApiToken" WHERE hash = ${hash}`;
  if (row === undefined || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) {
    return null;
  }
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
    return toTokenRecord({ ...row, lastUsedAt: now });
  }
  return toTokenRecord(row);
}

export async function listTokens(db: Db): Promise<ApiTokenRecord[]> {
  const rows = await db.apiToken.findMany({ orderBy: { createdAt: "desc" } });
  return rows.map(toTokenRecord);
}
