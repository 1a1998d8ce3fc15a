import { AppError } from "@keyturn/usecases";

/**
 * The database's member of the one infrastructure error family (AppError): the adapter translates
 * Prisma and pg errors into it once, so nothing above the adapter ever inspects a Prisma or pg
 * error code, and the edges treat it like any AppError (the worker does not retry one that is not
 * `retryable`: a CONFLICT or an UNKNOWN fails its job at once).
 */
export class DatabaseError extends AppError {
  override readonly name: string = "DatabaseError";
  declare readonly code: "CONFLICT" | "SERIALIZATION" | "UNAVAILABLE" | "UNKNOWN";
  constructor(
    code: DatabaseError["code"],
    message: string,
    retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, message, { retryable, cause: options?.cause });
  }
}

type DriverCause = { originalCode?: unknown; code?: unknown; kind?: unknown };

// The codes Prisma gives these adapter failures on model queries (its raw queries say P2010).
const UNREACHED: Partial<Record<string, string>> = {
  DatabaseNotReachable: "P1001",
  ConnectionClosed: "P1017",
};

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) {
    return undefined;
  }
  const record = error as {
    code?: unknown;
    cause?: unknown;
    meta?: { code?: unknown; driverAdapterError?: { cause?: DriverCause } };
  };
  // A raw query's failure is P2010 whatever went wrong; PostgreSQL's own code sits underneath, or,
  // when PostgreSQL never answered, the adapter's kind of failure.
  const driver = record.meta?.driverAdapterError?.cause;
  if (typeof driver?.originalCode === "string") {
    return driver.originalCode;
  }
  const unreached = typeof driver?.kind === "string" ? UNREACHED[driver.kind] : undefined;
  if (unreached !== undefined) {
    return unreached;
  }
  if (typeof record.meta?.code === "string") {
    return record.meta.code;
  }
  if (typeof record.code === "string") {
    return record.code;
  }
  return codeOf(record.cause);
}

// pg reports a connection that died under a query or a transaction with these messages and no code.
const LOST_CONNECTION = /Connection terminated|encountered a connection error and is not queryable/;

function lostConnection(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (LOST_CONNECTION.test(current.message)) {
      return true;
    }
  }
  return false;
}

export function translateDatabaseError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) {
    return error;
  }
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    // Serialization failure and deadlock: the whole transaction can simply run again.
    case "P2034":
    case "40001":
    case "40P01":
      return new DatabaseError("SERIALIZATION", "transaction conflicted with another; retry", true, {
        cause: error,
      });
    case "P2002":
    case "23505":
      return new DatabaseError("CONFLICT", "a unique constraint was violated", false, { cause: error });
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "P1001":
    case "P1017":
    case "57P01":
    case "57P02":
    case "57P03":
      return new DatabaseError("UNAVAILABLE", "the database is unavailable", true, { cause: error });
    // Prisma's transaction API gave up: no pooled connection came free within maxWait, or the
    // transaction outlived its timeout and was rolled back (a busy database, an exhausted pool).
    // Nothing was committed, so running it again is safe.
    case "P2028":
      return new DatabaseError("UNAVAILABLE", "the database did not serve the transaction in time", true, {
        cause: error,
      });
    default:
      if (lostConnection(error)) {
        return new DatabaseError("UNAVAILABLE", "the connection to the database was lost", true, {
          cause: error,
        });
      }
      return new DatabaseError("UNKNOWN", message, false, { cause: error });
  }
}
