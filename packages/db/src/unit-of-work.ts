import type { BucketPolicyUnitOfWork, Clock, IdGenerator, UnitOfWork } from "@keyturn/usecases";
import { createApiTokenRepository } from "./api-token-repository.js";
import { createAssignmentRepository } from "./assignment-repository.js";
import { type CommittedAuditObserver, recordAudit } from "./audit.js";
import {
  createAccessHolderQueries,
  createProtectedBucketRepository,
  createSessionCutoffRepository,
} from "./bucket-policy-repository.js";
import { createCliSignInRepository } from "./cli-sign-in-repository.js";
import { createDriftRepository } from "./drift-repository.js";
import { createFlowRepository } from "./flow-repository.js";
import { createIdentityRepository } from "./identity-repository.js";
import { createLeaseRepository } from "./lease-repository.js";
import { createOutbox } from "./outbox.js";
import type { Db } from "./prisma-types.js";
import { createRequestRepository } from "./request-repository.js";
import { runInTransaction } from "./transaction.js";

/** The access-request use cases' transactions (see runInTransaction for the rules). */
export function createUnitOfWork(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator; onCommitted?: CommittedAuditObserver },
): UnitOfWork {
  const now = () => deps.clock.now();
  return {
    run: (work) =>
      runInTransaction(
        db,
        { timeoutMs: 15_000, onCommitted: deps.onCommitted },
        (tx, committed) => ({
          flows: createFlowRepository(tx),
          identities: createIdentityRepository(tx, deps.ids),
          requests: createRequestRepository(tx, deps.ids, now),
          leases: createLeaseRepository(tx, deps.ids, now),
          audit: {
            append: (entry) => recordAudit(tx, committed, { ...entry, id: deps.ids.uuid(), at: now() }),
          },
          outbox: createOutbox(tx, deps.ids, now),
          tokens: createApiTokenRepository(tx),
          assignments: createAssignmentRepository(tx, deps.ids),
          drift: createDriftRepository(tx, deps.ids),
          signIns: createCliSignInRepository(tx),
        }),
        work,
      ),
  };
}

/**
 * The bucket-policy use cases' transactions: their own narrow view, and a longer timeout, since a
 * transaction can wait on S3 while the bucket's row is locked.
 */
export function createBucketPolicyUnitOfWork(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator; onCommitted?: CommittedAuditObserver },
): BucketPolicyUnitOfWork {
  const now = () => deps.clock.now();
  return {
    run: (work) =>
      runInTransaction(
        db,
        { timeoutMs: 30_000, onCommitted: deps.onCommitted },
        (tx, committed) => ({
          buckets: createProtectedBucketRepository(tx),
          cutoffs: createSessionCutoffRepository(tx),
          access: createAccessHolderQueries(tx),
          audit: {
            append: (entry) => recordAudit(tx, committed, { ...entry, id: deps.ids.uuid(), at: now() }),
          },
          outbox: createOutbox(tx, deps.ids, now),
        }),
        work,
      ),
  };
}
