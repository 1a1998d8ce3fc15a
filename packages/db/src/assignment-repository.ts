import type { RequestStatus } from "@keyturn/core";
import type { AssignmentRepository, PendingChange } from "@keyturn/usecases";
import type { Lease } from "./generated/prisma/client.js";
import { leaseRecord as leaseRecordOf } from "./lease-repository.js";
import type { Tx } from "./prisma-types.js";

export function createAssignmentRepository(tx: Tx, ids: { uuid(): string }): AssignmentRepository {
  return {
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
        pending: pendingChange(row),
        identity: row.identity,
        leases: row.leases.map(leaseRecord),
      };
    },
    async leases(id) {
      const rows = await tx.lease.findMany({
        where: { assignmentId: id },
        include: { request: { select: { status: true } } },
        orderBy: { createdAt: "asc" },
      });
      return rows.map(leaseRecord);
    },
    async markChangeRequested(id, operation, at) {
      if (operation === "create") {
        // The first create's instant marks the assignment as Keyturn's own (never preexisting).
        await tx.assignment.updateMany({
          where: { id, provisionIntentAt: null },
          data: { provisionIntentAt: at },
        });
      }
      await tx.assignment.update({
        where: { id },
        data: {
          observedPresent: null,
          // A create may be on its way from here on; its id is saved as soon as AWS answers.
          ...(operation === "create"
            ? { pendingOperation: "create", pendingRequestId: null, pendingSince: at }
            : {}),
        },
      });
    },
    async lastAttempt(id, { since, outcomes, operation }) {
      const row = await tx.reconcileAttempt.findFirst({
        where: {
          assignmentId: id,
          startedAt: { gte: since },
          outcome: { in: [...outcomes] },
          ...(operation === undefined ? {} : { operation }),
        },
        orderBy: { startedAt: "desc" },
      });
      return row === null
        ? null
        : {
            assignmentId: row.assignmentId,
            operation: row.operation === "delete" ? "delete" : "create",
            outcome: row.outcome === "succeeded" || row.outcome === "failed" ? row.outcome : "error",
            awsRequestId: row.awsRequestId,
            failureReason: row.failureReason,
            requestIds: row.requestIds,
            startedAt: row.startedAt,
            finishedAt: row.finishedAt,
          };
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
    async repinPrincipal({ identityId, from, to, at }) {
      const owner = await tx.identity.findUnique({
        where: { identityStoreUserId: to },
        select: { id: true },
      });
      if (owner !== null && owner.id !== identityId) {
        return "taken";
      }
      const { count } = await tx.identity.updateMany({
        where: { id: identityId, identityStoreUserId: from },
        data: { identityStoreUserId: to, pinnedAt: at },
      });
      if (count === 1) {
        // Observations and the "Keyturn created it" mark were about the old user. Rows with a
        // change in flight keep theirs: that change is settled by its AWS request id.
        await tx.assignment.updateMany({
          where: { identityId, pendingOperation: null },
          data: { observedPresent: null, provisionIntentAt: null },
        });
      }
      const row = await tx.identity.findUniqueOrThrow({
        where: { id: identityId },
        select: { identityStoreUserId: true },
      });
      return { principalId: row.identityStoreUserId ?? to, repinned: count === 1 };
    },
  };
}

type PendingRow = {
  pendingOperation: string | null;
  pendingRequestId: string | null;
  pendingSince: Date | null;
};

function pendingChange(row: PendingRow): PendingChange | null {
  if (row.pendingSince === null) {
    return null;
  }
  if (row.pendingOperation === "delete" && row.pendingRequestId !== null) {
    return { operation: "delete", requestId: row.pendingRequestId, since: row.pendingSince };
  }
  if (row.pendingOperation === "create") {
    return { operation: "create", requestId: row.pendingRequestId, since: row.pendingSince };
  }
  return null;
}

type LeaseRow = Lease & { request: { status: string } };

/** A lease with its request's state, as the reconciler reads it. */
function leaseRecord(lease: LeaseRow) {
  return { ...leaseRecordOf(lease), requestStatus: lease.request.status as RequestStatus };
}
