import { AppError, type BucketPolicyUnitOfWork, type Clock, type IdGenerator } from "@keyturn/usecases";
import { type CommittedAudit, type CommittedAuditObserver, recordAudit, reportCommitted } from "./audit.js";
import {
  createAccessHolderQueries,
  createProtectedBucketRepository,
  createSessionCutoffRepository,
} from "./bucket-policy-repository.js";
import { translateDatabaseError } from "./errors.js";
import { createOutbox } from "./outbox.js";
import type { Db } from "./prisma-types.js";

const MAX_ATTEMPTS = 3;

/** Carries a rejected use case's result out of the transaction so that it rolls back. */
class Rejected {
  readonly result: unknown;
  constructor(result: unknown) {
    this.result = result;
  }
}

const isRejection = (value: unknown) =>
  typeof value === "object" && value !== null && (value as { ok?: unknown }).ok === false;

/**
 * The bucket-policy use cases' transactions, with the same rules as createUnitOfWork (rejections
 * roll back, serialization failures re-run the unit). Apart from it because the use cases' narrow
 * Transaction view is theirs; it may fold into the main unit of work later.
 *
 * Differences: an AppError thrown inside (an S3 call made while the bucket's row is locked)
 * leaves as it is, so its code and `retryable` reach the caller; and the transaction may run for
 * longer, since it can wait on S3.
 */
export function createBucketPolicyUnitOfWork(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator; onCommitted?: CommittedAuditObserver },
): BucketPolicyUnitOfWork {
  return {
    async run(work) {
      for (let attempt = 1; ; attempt++) {
        const committed: CommittedAudit[] = [];
        try {
          const value = await db.$transaction(
            async (tx) => {
              const result = await work({
                buckets: createProtectedBucketRepository(tx),
                cutoffs: createSessionCutoffRepository(tx),
                access: createAccessHolderQueries(tx),
                audit: {
                  append: (entry) =>
                    recordAudit(tx, committed, { ...entry, id: deps.ids.uuid(), at: deps.clock.now() }),
                },
                outbox: createOutbox(tx, deps.ids, () => deps.clock.now()),
              });
              if (isRejection(result)) {
                throw new Rejected(result);
              }
              return result;
            },
            { timeout: 30_000, maxWait: 10_000 },
          );
          reportCommitted(deps.onCommitted, committed);
          return value;
        } catch (error) {
          if (error instanceof Rejected) {
            return error.result as Awaited<ReturnType<typeof work>>;
          }
          if (error instanceof AppError) {
            throw error;
          }
          const translated = translateDatabaseError(error);
          if (!translated.retryable || attempt >= MAX_ATTEMPTS) {
            throw translated;
          }
        }
      }
    },
  };
}
