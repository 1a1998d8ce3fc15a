import { AppError } from "@keyturn/usecases";
import { type CommittedAudit, type CommittedAuditObserver, reportCommitted } from "./audit.js";
import { DatabaseError, translateDatabaseError } from "./errors.js";
import type { Db, Tx } from "./prisma-types.js";

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
 * The one transaction runner under every unit of work. Runs `work` in one PostgreSQL transaction
 * on the repositories `view` builds:
 * - a use case that returns `{ ok: false }` rolls back too: a rejected command leaves no trace,
 *   not even an identity row created while resolving who asked;
 * - serialization failures and deadlocks (retryable DatabaseErrors) re-run the whole unit, which
 *   has written nothing that survived, up to three times;
 * - any other AppError thrown inside (an S3 call made while a row is locked) leaves as it is, so
 *   its code and `retryable` reach the caller; everything else leaves as a DatabaseError;
 * - the audit events it committed are reported once the commit is done.
 */
export async function runInTransaction<View, T>(
  db: Db,
  options: { timeoutMs: number; onCommitted: CommittedAuditObserver | undefined },
  view: (tx: Tx, committed: CommittedAudit[]) => View,
  work: (view: View) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const committed: CommittedAudit[] = [];
    try {
      const value = await db.$transaction(
        async (tx) => {
          const result = await work(view(tx, committed));
          if (isRejection(result)) {
            throw new Rejected(result);
          }
          return result;
        },
        { timeout: options.timeoutMs, maxWait: 10_000 },
      );
      reportCommitted(options.onCommitted, committed);
      return value;
    } catch (error) {
      if (error instanceof Rejected) {
        return error.result as T;
      }
      if (error instanceof AppError && !(error instanceof DatabaseError)) {
        throw error;
      }
      const translated = translateDatabaseError(error);
      if (!translated.retryable || attempt >= MAX_ATTEMPTS) {
        throw translated;
      }
    }
  }
}
