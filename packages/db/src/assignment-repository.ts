import type { RequestStatus } from "@keyturn/core";
import type { AssignmentRepository } from "@keyturn/usecases";
import type { Tx } from "./prisma-types.js";

export function createAssignmentRepository(tx: Tx, ids: { uuid(): string }): AssignmentRepository {
  return {
    async claim({ id, owner, until, now }) {
      // One conditional UPDATE: free, expired, or already ours. Row-level atomicity does the rest.
      const claimed =
        await tx.$executeRaw`UPDATE "Assignment" SET "claimedBy" = ${owner}, "claimedUntil" = ${until}
        WHERE id = ${id}::uuid AND ("claimedUntil" IS NULL OR "claimedUntil" <= ${now} OR "claimedBy" = ${owner})`;
      if (claimed === 1) {
        return "claimed";
      }
      const exists = await tx.assignment.count({ where: { id } });
      return exists === 0 ? "missing" : "busy";
    },
    async renewClaim({ id, owner, until }) {
      const renewed = await tx.assignment.updateMany({
        where: { id, claimedBy: owner },
        data: { claimedUntil: until },
      });
      return renewed.count === 1;
    },
    async releaseClaim({ id, owner }) {
      await tx.assignment.updateMany({
        where: { id, claimedBy: owner },
        data: { claimedBy: null, claimedUntil: null },
      });
    },
    async snapshot(id) {
      const row = await tx.assignment.findUnique({
        where: { id },
        include: {
          identity: { select: { id: true, email: true, identityStoreUserId: true } },
          leases: { include: { request: { select: { status: true } } }, orderBy: { createdAt: "asc" } },
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
        provisionIntentAt: row.provisionIntentAt,
        observedPresent: row.observedPresent,
        pending:
          row.pendingOperation === "delete" && row.pendingRequestId !== null && row.pendingSince !== null
            ? { operation: "delete", requestId: row.pendingRequestId, since: row.pendingSince }
            : null,
        identity: row.identity,
        leases: row.leases.map((lease) => ({
          id: lease.id,
          assignmentId: lease.assignmentId,
          requestId: lease.requestId,
          startsAt: lease.startsAt,
          endsAt: lease.endsAt,
          releasedAt: lease.releasedAt,
          requestStatus: lease.request.status as RequestStatus,
        })),
      };
    },
    async markChangeRequested(id, operation, at) {
      if (operation === "create") {
        // The first create's instant marks the assignment as Keyturn's own (never preexisting).
        await tx.assignment.updateMany({
          where: { id, provisionIntentAt: null },
          data: { provisionIntentAt: at },
        });
      }
      await tx.assignment.update({ where: { id }, data: { observedPresent: null } });
    },
    async setPending(id, pending) {
      await tx.assignment.update({
        where: { id },
        data: {
          pendingOperation: pending?.operation ?? null,
          pendingRequestId: pending?.requestId ?? null,
          pendingSince: pending?.since ?? null,
        },
      });
    },
    async markPreexisting(id) {
      await tx.assignment.update({ where: { id }, data: { origin: "preexisting" } });
    },
    async recordObservation(id, present, at) {
      await tx.assignment.update({ where: { id }, data: { observedPresent: present, lastReconciledAt: at } });
    },
    async recordAttempt(attempt) {
      await tx.reconcileAttempt.create({ data: { id: ids.uuid(), ...attempt } });
    },
    async pinPrincipal(identityId, principalId, at) {
      const { count } = await tx.identity.updateMany({
        where: { id: identityId, identityStoreUserId: null },
        data: { identityStoreUserId: principalId, pinnedAt: at },
      });
      const row = await tx.identity.findUniqueOrThrow({
        where: { id: identityId },
        select: { identityStoreUserId: true },
      });
      return { principalId: row.identityStoreUserId ?? principalId, pinned: count === 1 };
    },
  };
}
