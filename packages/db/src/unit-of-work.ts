import type { Clock, IdGenerator, UnitOfWork } from "@keyturn/usecases";
import { createApiTokenRepository } from "./api-token-repository.js";
import { createAssignmentRepository } from "./assignment-repository.js";
import { type CommittedAudit, type CommittedAuditObserver, recordAudit, reportCommitted } from "./audit.js";
import { createCliSignInRepository } from "./cli-sign-in-repository.js";
import { createDriftRepository } from "./drift-repository.js";
import { translateDatabaseError } from "./errors.js";
import { createFlowRepository } from "./flow-repository.js";
import { createIdentityRepository } from "./identity-repository.js";
import { createLeaseRepository } from "./lease-repository.js";
import { createOutbox } from "./outbox.js";
import type { Db } from "./prisma-types.js";
import { createRequestRepository } from "./request-repository.js";

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
 * Runs a use case in one PostgreSQL transaction. Serialization failures and deadlocks re-run the
 * whole unit (it has written nothing that survived); everything else surfaces translated. A use
 * case that returns `{ ok: false }` rolls back too: a rejected command leaves no trace, not even an
 * identity row created while resolving who asked.
 */
export function createUnitOfWork(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator; onCommitted?: CommittedAuditObserver },
): UnitOfWork {
  const now = () => deps.clock.now();
  return {
    async run(work) {
      for (let attempt = 1; ; attempt++) {
        const committed: CommittedAudit[] = [];
        try {
          const value = await db.$transaction(
            async (tx) => {
              const result = await work({
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
              });
              if (isRejection(result)) {
                throw new Rejected(result);
              }
              return result;
            },
            { timeout: 15_000, maxWait: 10_000 },
          );
          reportCommitted(deps.onCommitted, committed);
          return value;
        } catch (error) {
          if (error instanceof Rejected) {
            return error.result as Awaited<ReturnType<typeof work>>;
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
