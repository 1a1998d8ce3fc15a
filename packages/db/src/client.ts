import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/client/runtime/client";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";
import { takeTurns } from "./take-turns.js";

export type CreatePrismaClientOptions = {
  databaseUrl: string;
  /** Size of the pg pool behind the client (pg's default is 10). */
  maxConnections?: number;
};

// The generated client runs on the pg driver adapter (engineType "client"): no native query engine,
// which these machines could not download anyway.
export function createPrismaClient({ databaseUrl, maxConnections }: CreatePrismaClientOptions): PrismaClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    ...(maxConnections === undefined ? {} : { max: maxConnections }),
  });
  // pg-pool takes its idle listener off a client as it hands it out, and the adapter adds its own
  // only after awaiting the checkout. A connection killed at that moment (a PostgreSQL restart)
  // can deliver its FATAL error in the same socket read as the ReadyForQuery that freed it: an
  // 'error' event with no listener, which is an uncaught exception that ends the process. The
  // error itself is not lost: the client is unusable from then on and the next query on it fails.
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return new PrismaClient({ adapter: releaseFailedTransactions(adapter) });
}

type SqlDriverAdapter = Awaited<ReturnType<SqlDriverAdapterFactory["connect"]>>;
type SqlTransaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;

/**
 * Prisma 6.19 ends an interactive transaction by sending COMMIT (or ROLLBACK) and only then calling
 * the adapter's commit() (rollback()), which is what returns the pg client to the pool. When that
 * statement fails — the connection was killed by a PostgreSQL restart, a failover or
 * pg_terminate_backend — the client is never returned: each such transaction leaks one pool slot,
 * and once the pool's `max` have leaked every later transaction waits for a connection forever
 * (maxWait is only checked after one is obtained). A worker would then need a restart to recover.
 * So when COMMIT or ROLLBACK fails, the client is released here; pg destroys a client whose
 * connection broke instead of pooling it.
 */
function releaseFailedTransactions(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  const guard = (tx: SqlTransaction): SqlTransaction => {
    let released = false;
    // A transaction is one pg client, but Prisma's query interpreter sends the queries of a
    // relation join (an `include` of two relations) at once: they take turns here.
    const inTurn = takeTurns();
    const release = async (end: () => Promise<void>) => {
      if (!released) {
        released = true;
        await end();
      }
    };
    return new Proxy(tx, {
      get(target, key) {
        if (key === "commit") {
          return () => release(() => target.commit());
        }
        if (key === "rollback") {
          return () => release(() => target.rollback());
        }
        if (key === "queryRaw") {
          return (query: Parameters<SqlTransaction["queryRaw"]>[0]) => inTurn(() => target.queryRaw(query));
        }
        if (key === "executeRaw") {
          return async (query: Parameters<SqlTransaction["executeRaw"]>[0]) => {
            try {
              return await inTurn(() => target.executeRaw(query));
            } catch (error) {
              if (query.sql === "COMMIT" || query.sql === "ROLLBACK") {
                await release(() => target.rollback()).catch(() => undefined);
              }
              throw error;
            }
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  return new Proxy(factory, {
    get(target, key) {
      if (key === "connect") {
        return async () => {
          const adapter = await target.connect();
          return new Proxy(adapter, {
            get(inner, innerKey) {
              if (innerKey === "startTransaction") {
                return async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
                  guard(await inner.startTransaction(...args));
              }
              const value: unknown = Reflect.get(inner, innerKey, inner);
              return typeof value === "function" ? value.bind(inner) : value;
            },
          });
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
