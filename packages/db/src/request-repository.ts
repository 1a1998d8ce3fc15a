import type {
  AccessRequest,
  LinkedTicket,
  OnCallOutcome,
  RequestStatus,
  Review,
  TicketProviderName,
} from "@keyturn/core";
import type { RequestRepository } from "@keyturn/usecases";
import { flowRulesOf } from "./flow-rules.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Tx } from "./prisma-types.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

type RequestRow = Prisma.AccessRequestGetPayload<{ include: { flow: true; reviews: true } }>;

const opt = <K extends string, V>(key: K, value: V | null | undefined) =>
  (value === null || value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

function linkedTicketOf(row: RequestRow): LinkedTicket | undefined {
  if (row.ticketProvider === null || row.ticket === null) {
    return undefined;
  }
  return {
    provider: row.ticketProvider as TicketProviderName,
    key: row.ticket,
    title: row.ticketTitle ?? "",
    url: row.ticketUrl ?? "",
    state: row.ticketState ?? "",
  };
}

function onCallOf(row: RequestRow): OnCallOutcome | undefined {
  if (row.onCallCheckedAt === null || row.onCallOutcome === null) {
    return undefined;
  }
  return {
    checkedAt: row.onCallCheckedAt,
    outcome: row.onCallOutcome as OnCallOutcome["outcome"],
    note: row.onCallNote ?? "",
  };
}

export function toDomain(row: RequestRow): AccessRequest {
  const reviews: Review[] = [...row.reviews]
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    .map((r) => ({
      reviewerId: r.reviewerId,
      decision: r.decision,
      at: r.createdAt,
      override: r.override,
      ...opt("comment", r.comment),
    }));
  return {
    id: row.id,
    flow: { name: row.flowName, version: row.flowVersion, rules: flowRulesOf(row.flow.rules) },
    requesterId: row.requesterId,
    target: { accountId: row.accountId, permissionSetName: row.permissionSetName },
    reason: row.reason,
    ...opt("ticket", row.ticket),
    ...opt("linkedTicket", linkedTicketOf(row)),
    durationSeconds: row.durationSeconds,
    source: row.source,
    status: row.status as RequestStatus,
    breakGlass: row.breakGlass,
    reviews,
    extensionCount: row.extensionCount,
    createdAt: row.createdAt,
    pendingUntil: row.pendingUntil ?? row.createdAt,
    ...opt("decidedAt", row.decidedAt),
    ...opt("activatedAt", row.activatedAt),
    ...opt("expiresAt", row.expiresAt),
    ...opt("endedAt", row.endedAt),
    ...opt("failureReason", row.failureReason),
    ...opt("endReason", row.endReason),
    ...opt("notAfter", row.notAfter),
    ...opt("onCall", onCallOf(row)),
  };
}

function columns(request: AccessRequest) {
  return {
    status: request.status,
    extensionCount: request.extensionCount,
    decidedAt: request.decidedAt ?? null,
    activatedAt: request.activatedAt ?? null,
    expiresAt: request.expiresAt ?? null,
    endedAt: request.endedAt ?? null,
    failureReason: request.failureReason ?? null,
    endReason: request.endReason ?? null,
    // An on-call approval shortens the requested duration to the grant it approves.
    durationSeconds: request.durationSeconds,
    notAfter: request.notAfter ?? null,
    onCallCheckedAt: request.onCall?.checkedAt ?? null,
    onCallOutcome: request.onCall?.outcome ?? null,
    onCallNote: request.onCall?.note ?? null,
    ticketState: request.linkedTicket?.state ?? null,
  };
}

export function createRequestRepository(tx: Tx, ids: { uuid(): string }, now: () => Date): RequestRepository {
  const insertReviews = async (request: AccessRequest, reviews: Review[]) => {
    if (reviews.length > 0) {
      await tx.review.createMany({
        data: reviews.map((r) => ({
          id: ids.uuid(),
          requestId: request.id,
          reviewerId: r.reviewerId,
          decision: r.decision,
          comment: r.comment ?? null,
          override: r.override,
          createdAt: r.at,
        })),
      });
    }
  };
  return {
    async lock(id) {
      if (!isUuid(id)) {
        return null;
      }
      const locked = await tx.$queryRaw<
        { id: string }[]
      >`SELECT id FROM "AccessRequest" WHERE id = ${id}::uuid FOR UPDATE`;
      if (locked.length === 0) {
        return null;
      }
      const row = await tx.accessRequest.findUniqueOrThrow({
        where: { id },
        include: { flow: true, reviews: true },
      });
      return toDomain(row);
    },
    async findByIdempotencyKey(key) {
      // Two deliveries of one submission may arrive together (two replicas): the second waits here
      // until the first commits, then finds its request instead of colliding on the unique key.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`idempotency:${key}`}))`;
      const row = await tx.accessRequest.findUnique({
        where: { idempotencyKey: key },
        include: { flow: true, reviews: true },
      });
      return row === null ? null : { request: toDomain(row), fingerprint: row.idempotencyFingerprint };
    },
    async insert(request, options) {
      await tx.accessRequest.create({
        data: {
          id: request.id,
          idempotencyKey: options?.idempotencyKey ?? null,
          idempotencyFingerprint: options?.idempotencyFingerprint ?? null,
          flowName: request.flow.name,
          flowVersion: request.flow.version,
          requesterId: request.requesterId,
          accountId: request.target.accountId,
          permissionSetName: request.target.permissionSetName,
          reason: request.reason,
          ticket: request.ticket ?? null,
          ticketProvider: request.linkedTicket?.provider ?? null,
          ticketTitle: request.linkedTicket?.title ?? null,
          ticketUrl: request.linkedTicket?.url ?? null,
          source: request.source,
          breakGlass: request.breakGlass,
          createdAt: request.createdAt,
          updatedAt: now(),
          pendingUntil: request.pendingUntil,
          ...columns(request),
        },
      });
      await insertReviews(request, request.reviews);
    },
    async findOpenByTicket(provider, key) {
      const rows = await tx.accessRequest.findMany({
        where: { ticketProvider: provider, ticket: key, status: { in: ["approved", "active"] } },
        select: { id: true },
        orderBy: { createdAt: "asc" },
      });
      return rows.map((row) => row.id);
    },
    async openTicketBindings() {
      const rows = await tx.accessRequest.findMany({
        where: {
          ticketProvider: { not: null },
          ticket: { not: null },
          status: { in: ["approved", "active"] },
        },
        select: { ticketProvider: true, ticket: true },
        distinct: ["ticketProvider", "ticket"],
      });
      return rows.flatMap((row) =>
        row.ticketProvider === null || row.ticket === null
          ? []
          : [{ provider: row.ticketProvider as TicketProviderName, key: row.ticket }],
      );
    },
    async update(before, after) {
      await tx.accessRequest.update({
        where: { id: after.id },
        data: { ...columns(after), updatedAt: now(), version: { increment: 1 } },
      });
      await insertReviews(after, after.reviews.slice(before.reviews.length));
    },
  };
}
