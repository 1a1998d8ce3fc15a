import type { RequestStatus } from "@keyturn/core";
import type {
  PersonRef,
  PinnedSlackIdentity,
  RequestCard,
  SlackIdentityStore,
  SlackPinOutcome,
} from "@keyturn/usecases";
import { translateDatabaseError } from "./errors.js";
import { flowRulesOf } from "./flow-rules.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Db } from "./prisma-types.js";
import { isUuid } from "./request-repository.js";

// Read models for Slack: a request with everything its messages show (the flow version it was
// judged under, people with their pinned Slack ids, who ended it), and the identity pin.

const person = { select: { id: true, email: true, slackUserId: true } } as const;

const include = {
  flow: true,
  requester: person,
  reviews: { include: { reviewer: person }, orderBy: { createdAt: "asc" } },
  lease: { select: { startsAt: true, endsAt: true, releasedAt: true } },
} satisfies Prisma.AccessRequestInclude;

export type SlackPersonRow = PinnedSlackIdentity;

/** The API token that filed a request on its requester's behalf (source integration). */
export type SlackFiledByRow = { tokenId: string; tokenName: string | null };

export type SlackRequestRow = Prisma.AccessRequestGetPayload<{ include: typeof include }> & {
  /** Who cancelled or revoked it (from the audit event), when a person did. */
  endedBy: SlackPersonRow | null;
  /** For requests filed on someone's behalf: the token that filed it (from request.submitted). */
  filedBy: SlackFiledByRow | null;
};

/** Audit actions whose data names the person who ended the request in `by`. */
const ENDED_BY_ACTIONS = ["request.cancelled", "request.revoked"];

type RequestRowWithPeople = Prisma.AccessRequestGetPayload<{ include: typeof include }>;

async function endedByOf(db: Db, rows: RequestRowWithPeople[]): Promise<Map<string, SlackPersonRow>> {
  const ended = rows.filter((row) => row.status === "cancelled" || row.status === "revoked");
  if (ended.length === 0) {
    return new Map();
  }
  const events = await db.auditEvent.findMany({
    where: { requestId: { in: ended.map((row) => row.id) }, action: { in: ENDED_BY_ACTIONS } },
    orderBy: { seq: "asc" },
    select: { requestId: true, data: true },
  });
  const byRequest = new Map<string, string>();
  for (const event of events) {
    const by = (event.data as { by?: unknown } | null)?.by;
    if (event.requestId !== null && typeof by === "string" && isUuid(by)) {
      byRequest.set(event.requestId, by);
    }
  }
  const people = await db.identity.findMany({
    where: { id: { in: [...new Set(byRequest.values())] } },
    select: person.select,
  });
  const peopleById = new Map(people.map((p) => [p.id, p]));
  const result = new Map<string, SlackPersonRow>();
  for (const [requestId, by] of byRequest) {
    const found = peopleById.get(by);
    if (found !== undefined) {
      result.set(requestId, found);
    }
  }
  return result;
}

async function filedByOf(db: Db, rows: RequestRowWithPeople[]): Promise<Map<string, SlackFiledByRow>> {
  const filed = rows.filter((row) => row.source === "integration");
  if (filed.length === 0) {
    return new Map();
  }
  const events = await db.auditEvent.findMany({
    where: {
      requestId: { in: filed.map((row) => row.id) },
      action: "request.submitted",
      actorType: "token",
    },
    select: { requestId: true, actorId: true, actorLabel: true },
  });
  return new Map(
    events.flatMap((event) =>
      event.requestId === null
        ? []
        : [[event.requestId, { tokenId: event.actorId, tokenName: event.actorLabel }] as const],
    ),
  );
}

async function withAuditedPeople(db: Db, rows: RequestRowWithPeople[]): Promise<SlackRequestRow[]> {
  const [endedBy, filedBy] = await Promise.all([endedByOf(db, rows), filedByOf(db, rows)]);
  return rows.map((row) => ({
    ...row,
    endedBy: endedBy.get(row.id) ?? null,
    filedBy: filedBy.get(row.id) ?? null,
  }));
}

export async function getSlackRequestRow(db: Db, id: string): Promise<SlackRequestRow | null> {
  if (!isUuid(id)) {
    return null;
  }
  const row = await db.accessRequest.findUnique({ where: { id }, include });
  if (row === null) {
    return null;
  }
  const [withPeople] = await withAuditedPeople(db, [row]);
  return withPeople ?? null;
}

/** The request as the Slack messages show it (null for an unknown or malformed id). */
export async function getRequestCard(db: Db, id: string): Promise<RequestCard | null> {
  const row = await getSlackRequestRow(db, id);
  return row === null ? null : toRequestCard(row);
}

const personRef = (row: SlackPersonRow): PersonRef => ({ email: row.email, slackUserId: row.slackUserId });

export function toRequestCard(row: SlackRequestRow): RequestCard {
  return {
    id: row.id,
    flow: { name: row.flowName, version: row.flowVersion, rules: flowRulesOf(row.flow.rules) },
    requester: personRef(row.requester),
    target: { accountId: row.accountId, permissionSetName: row.permissionSetName },
    reason: row.reason,
    ticket: row.ticket,
    linkedTicket:
      row.ticketProvider === null || row.ticket === null
        ? null
        : {
            provider: row.ticketProvider === "linear" ? "linear" : "jira",
            key: row.ticket,
            title: row.ticketTitle ?? "",
            url: row.ticketUrl ?? "",
            state: row.ticketState ?? "",
          },
    onCall: row.onCallOutcome === null ? null : { outcome: row.onCallOutcome, note: row.onCallNote ?? "" },
    endReason: row.endReason,
    durationSeconds: row.durationSeconds,
    status: row.status,
    breakGlass: row.breakGlass,
    reviews: row.reviews.map((review) => ({
      reviewer: personRef(review.reviewer),
      decision: review.decision,
      override: review.override,
      comment: review.comment,
      at: review.createdAt,
    })),
    extensionCount: row.extensionCount,
    createdAt: row.createdAt,
    decidedAt: row.decidedAt,
    activatedAt: row.activatedAt,
    expiresAt: row.expiresAt,
    endedAt: row.endedAt,
    failureReason: row.failureReason,
    endedBy: row.endedBy === null ? null : personRef(row.endedBy),
    filedBy: row.source === "integration" ? (row.filedBy ?? { tokenId: "unknown", tokenName: null }) : null,
  };
}

/** Newest first; the App Home shows a handful, so `limit` is small. */
export async function listSlackRequestRows(
  db: Db,
  input: { requesterId?: string; statuses: readonly RequestStatus[]; limit: number },
): Promise<SlackRequestRow[]> {
  const rows = await db.accessRequest.findMany({
    where: {
      status: { in: [...input.statuses] },
      ...(input.requesterId === undefined ? {} : { requesterId: input.requesterId }),
    },
    include,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
  });
  return withAuditedPeople(db, rows);
}

export function findIdentityBySlackUserId(db: Db, slackUserId: string): Promise<SlackPersonRow | null> {
  return db.identity.findUnique({ where: { slackUserId }, select: person.select });
}

export function findIdentityByEmail(db: Db, email: string): Promise<SlackPersonRow | null> {
  return db.identity.findUnique({ where: { email: email.trim().toLowerCase() }, select: person.select });
}

/**
 * Pins a Slack user to the identity of an email, once: an identity already pinned to another
 * Slack user stays as it is (a "conflict" an admin resolves), so a changed Slack email can never
 * redirect someone's access. Never creates an identity: the use cases do that in their own
 * transaction, so a refused action leaves no row behind.
 */
export async function pinSlackUserId(
  db: Db,
  input: { email: string; slackUserId: string; at: Date },
): Promise<SlackPinOutcome> {
  const email = input.email.trim().toLowerCase();
  try {
    const updated = await db.identity.updateMany({
      where: { email, slackUserId: null },
      data: { slackUserId: input.slackUserId, updatedAt: input.at },
    });
    if (updated.count === 1) {
      return "pinned";
    }
  } catch (error) {
    // The Slack user is already pinned to another identity (unique slackUserId).
    if (translateDatabaseError(error).code === "CONFLICT") {
      return "conflict";
    }
    throw error;
  }
  const identity = await findIdentityByEmail(db, email);
  if (identity === null) {
    return "no_identity";
  }
  return identity.slackUserId === input.slackUserId ? "already_pinned" : "conflict";
}

/** The Slack identity port (packages/slack reaches the database only through it). */
export function createSlackIdentityStore(db: Db): SlackIdentityStore {
  return {
    findBySlackUserId: (slackUserId) => findIdentityBySlackUserId(db, slackUserId),
    findByEmail: (email) => findIdentityByEmail(db, email),
    pinSlackUserId: (input) => pinSlackUserId(db, input),
  };
}
