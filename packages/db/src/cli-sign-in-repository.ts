import type {
  CliSignInRecord,
  CliSignInRepository,
  CliSignInStatus,
  SlackSignInView,
} from "@keyturn/usecases";
import type { CliSignIn } from "./generated/prisma/client.js";
import type { Db, Tx } from "./prisma-types.js";

const STATUSES: ReadonlySet<string> = new Set<CliSignInStatus>([
  "pending",
  "approved",
  "rejected",
  "undeliverable",
  "redeemed",
]);

const toRecord = (row: CliSignIn): CliSignInRecord => {
  if (!STATUSES.has(row.status)) {
    throw new Error(`sign-in ${row.id} has an unknown status ${row.status}`);
  }
  return {
    id: row.id,
    code: row.code,
    email: row.email,
    slackUserId: row.slackUserId,
    host: row.host,
    status: row.status as CliSignInStatus,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedAt: row.decidedAt,
    identityStoreUserId: row.identityStoreUserId,
    tokenId: row.tokenId,
    redeemedAt: row.redeemedAt,
  };
};

export function createCliSignInRepository(tx: Tx): CliSignInRepository {
  return {
    async insert(signIn) {
      await tx.cliSignIn.create({ data: signIn });
    },
    async lock(id) {
      const [row] = await tx.$queryRaw<
        CliSignIn[]
      >`SELECT * FROM "CliSignIn" WHERE id = ${id}::uuid FOR UPDATE`;
      return row === undefined ? null : toRecord(row);
    },
    async lockByHandleHash(handleHash) {
      const [row] = await tx.$queryRaw<
        CliSignIn[]
      >`SELECT * FROM "CliSignIn" WHERE "handleHash" = ${handleHash} FOR UPDATE`;
      return row === undefined ? null : toRecord(row);
    },
    async update(id, change) {
      await tx.cliSignIn.update({ where: { id }, data: change });
    },
  };
}

/** A sign-in as the Slack side reads it (outside any use case): the DM to post or rewrite. */
export type CliSignInView = SlackSignInView;

export async function getCliSignIn(db: Db, id: string): Promise<CliSignInView | null> {
  const row = await db.cliSignIn.findUnique({ where: { id } });
  return row === null ? null : { ...toRecord(row), dmChannel: row.dmChannel, dmTs: row.dmTs };
}

/**
 * Claims the right to post a sign-in's DM: true for exactly one caller until `recordSignInMessage`
 * (or `releaseSignInMessage`), so a redelivered job never DMs twice.
 */
export async function claimSignInMessage(db: Db, id: string, channel: string): Promise<boolean> {
  const claimed = await db.cliSignIn.updateMany({
    where: { id, dmChannel: null },
    data: { dmChannel: channel },
  });
  return claimed.count === 1;
}

export async function recordSignInMessage(db: Db, id: string, ts: string): Promise<void> {
  await db.cliSignIn.update({ where: { id }, data: { dmTs: ts } });
}

export async function releaseSignInMessage(db: Db, id: string): Promise<void> {
  await db.cliSignIn.updateMany({ where: { id, dmTs: null }, data: { dmChannel: null } });
}
