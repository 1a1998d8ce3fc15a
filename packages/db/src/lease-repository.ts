import type { LeaseRecord, LeaseRepository } from "@keyturn/usecases";
import type { Lease } from "./generated/prisma/client.js";
import type { Tx } from "./prisma-types.js";

export const leaseRecord = (lease: Lease): LeaseRecord => ({
  id: lease.id,
  assignmentId: lease.assignmentId,
  requestId: lease.requestId,
  startsAt: lease.startsAt,
  endsAt: lease.endsAt,
  releasedAt: lease.releasedAt,
});

export function createLeaseRepository(tx: Tx, ids: { uuid(): string }, now: () => Date): LeaseRepository {
  const update = async (requestId: string, data: { endsAt?: Date; releasedAt?: Date }) => {
    const lease = await tx.lease.findUnique({ where: { requestId } });
    if (lease === null) {
      return null;
    }
    return leaseRecord(await tx.lease.update({ where: { requestId }, data: { ...data, updatedAt: now() } }));
  };
  return {
    async create({ requestId, key, startsAt, endsAt }) {
      await tx.$executeRaw`INSERT INTO "Assignment" (id, "accountId", "permissionSetName", "identityId", "updatedAt")
        VALUES (${ids.uuid()}::uuid, ${key.accountId}, ${key.permissionSetName}, ${key.identityId}::uuid, now())
        ON CONFLICT ("accountId", "permissionSetName", "identityId") DO NOTHING`;
      const assignment = await tx.assignment.findUniqueOrThrow({
        where: { accountId_permissionSetName_identityId: key },
      });
      const at = now();
      const lease = await tx.lease.create({
        data: {
          id: ids.uuid(),
          requestId,
          assignmentId: assignment.id,
          startsAt,
          endsAt,
          createdAt: at,
          updatedAt: at,
        },
      });
      return leaseRecord(lease);
    },
    async findByRequest(requestId) {
      const lease = await tx.lease.findUnique({ where: { requestId } });
      return lease === null ? null : leaseRecord(lease);
    },
    setEndsAt: (requestId, endsAt) => update(requestId, { endsAt }),
    release: (requestId, at) => update(requestId, { releasedAt: at }),
    async origin(assignmentId) {
      const assignment = await tx.assignment.findUniqueOrThrow({
        where: { id: assignmentId },
        select: { origin: true },
      });
      return assignment.origin;
    },
  };
}
