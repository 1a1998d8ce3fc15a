import type { SlackMessageClaim, SlackMessageRecord, SlackNotifierStore } from "@keyturn/usecases";
import {
  claimSignInMessage,
  getCliSignIn,
  recordSignInMessage,
  releaseSignInMessage,
} from "./cli-sign-in-repository.js";
import type { Db } from "./prisma-types.js";
import { getRequestCard } from "./slack-request-queries.js";

/**
 * The Slack messages Keyturn posted about a request, so later changes update them in place.
 *
 * A row is written BEFORE its message is posted, with an empty `ts`: the unique (requestId, kind)
 * key makes that insert the claim that decides which of two concurrent deliveries posts. The post
 * then fills in `ts`. A claim whose `ts` is still empty after `staleAfterMs` belonged to a
 * delivery that died between claim and post (or between post and fill-in); the next delivery
 * takes it over and posts. The second case can leave one duplicate message behind; the opposite
 * order (post, then insert) could leave an orphan on every lost race, and losing a message is
 * worse than a rare duplicate.
 */

const select = { requestId: true, kind: true, channel: true, ts: true, updatedAt: true } as const;

export function findSlackMessages(db: Db, requestId: string): Promise<SlackMessageRecord[]> {
  return db.slackMessage.findMany({ where: { requestId }, select, orderBy: { createdAt: "asc" } });
}

export async function claimSlackMessage(
  db: Db,
  input: { id: string; requestId: string; kind: string; channel: string; now: Date; staleAfterMs: number },
): Promise<SlackMessageClaim> {
  const inserted = await db.$executeRaw`
    INSERT INTO "SlackMessage" (id, "requestId", kind, channel, ts, "createdAt", "updatedAt")
    VALUES (${input.id}::uuid, ${input.requestId}::uuid, ${input.kind}, ${input.channel}, '', ${input.now}, ${input.now})
    ON CONFLICT ("requestId", kind) DO NOTHING`;
  if (inserted === 1) {
    return { claimed: true };
  }
  const existing = await db.slackMessage.findUnique({
    where: { requestId_kind: { requestId: input.requestId, kind: input.kind } },
    select,
  });
  if (existing === null) {
    // Released between our insert and read: the caller simply tries again later.
    throw new Error(`slack message claim for ${input.requestId}/${input.kind} vanished; retry`);
  }
  if (existing.ts !== "") {
    return { claimed: false, existing, reason: "posted" };
  }
  if (input.now.getTime() - existing.updatedAt.getTime() < input.staleAfterMs) {
    return { claimed: false, existing, reason: "in_progress" };
  }
  // Compare-and-set on updatedAt: of two deliveries taking over one stale claim, one wins.
  const taken = await db.slackMessage.updateMany({
    where: { requestId: input.requestId, kind: input.kind, ts: "", updatedAt: existing.updatedAt },
    data: { channel: input.channel, updatedAt: input.now },
  });
  return taken.count === 1 ? { claimed: true } : { claimed: false, existing, reason: "in_progress" };
}

export async function completeSlackMessage(
  db: Db,
  input: { requestId: string; kind: string; channel: string; ts: string; now: Date },
): Promise<void> {
  await db.slackMessage.update({
    where: { requestId_kind: { requestId: input.requestId, kind: input.kind } },
    data: { channel: input.channel, ts: input.ts, updatedAt: input.now },
  });
}

/** Gives a claim back after a failed post, so the retry posts instead of waiting for staleness. */
export async function releaseSlackMessageClaim(
  db: Db,
  input: { requestId: string; kind: string },
): Promise<void> {
  await db.slackMessage.deleteMany({ where: { requestId: input.requestId, kind: input.kind, ts: "" } });
}

/** Forgets a message Slack no longer has (deleted by someone), so the next delivery posts anew. */
export async function forgetSlackMessage(
  db: Db,
  input: { requestId: string; kind: string; ts: string },
): Promise<void> {
  await db.slackMessage.deleteMany({ where: { requestId: input.requestId, kind: input.kind, ts: input.ts } });
}

export async function touchSlackMessage(
  db: Db,
  input: { requestId: string; kind: string; now: Date },
): Promise<void> {
  await db.slackMessage.updateMany({
    where: { requestId: input.requestId, kind: input.kind },
    data: { updatedAt: input.now },
  });
}

/** The notifier's storage port (packages/slack reaches the database only through it). */
export function createSlackNotifierStore(db: Db): SlackNotifierStore {
  return {
    requestCard: (requestId) => getRequestCard(db, requestId),
    findMessages: (requestId) => findSlackMessages(db, requestId),
    claimMessage: (input) => claimSlackMessage(db, input),
    completeMessage: (input) => completeSlackMessage(db, input),
    releaseMessageClaim: (input) => releaseSlackMessageClaim(db, input),
    forgetMessage: (input) => forgetSlackMessage(db, input),
    touchMessage: (input) => touchSlackMessage(db, input),
    signIn: (signInId) => getCliSignIn(db, signInId),
    claimSignInMessage: (signInId, channel) => claimSignInMessage(db, signInId, channel),
    recordSignInMessage: (signInId, ts) => recordSignInMessage(db, signInId, ts),
    releaseSignInMessage: (signInId) => releaseSignInMessage(db, signInId),
  };
}
