import type { AssignmentClaim, AssignmentClaims } from "@keyturn/usecases";
import pg from "pg";
import { takeTurns } from "./take-turns.js";

// Per-assignment claims are PostgreSQL session-level advisory locks, all held on one connection of
// their own per process. A lock belongs to its session, so it ends with it: when the holder process
// dies its socket closes and PostgreSQL drops the session and its locks at once, and when the
// holder's host vanishes (no FIN ever comes) the keepalive settings below make PostgreSQL give up
// on the session within about 11 s. A claim never has to wait out a TTL chosen for the slowest AWS
// call, so a dead worker holds no removal hostage.
//
// Not Prisma's connections: @prisma/adapter-pg takes a pooled client per query, so a lock taken
// through it would stay with whichever pooled connection ran it, and be released (or re-entered)
// by whoever used that connection next.

/** Namespace of the two-key advisory lock space taken by reconcile claims (key2 is the id's hash). */
const CLAIM_LOCK_SPACE = 4_241_011;

// Server-side keepalives: a session whose peer stops answering is dropped after
// idle + interval * count seconds. The client's own keepalive covers the other direction.
const SESSION_SETTINGS = [
  "SET application_name = 'keyturn-claims'",
  "SET tcp_keepalives_idle = 5",
  "SET tcp_keepalives_interval = 2",
  "SET tcp_keepalives_count = 3",
];

export type AssignmentClaimsOptions = {
  databaseUrl: string;
  /** Told when the claims connection broke (the claims it held are lost). */
  onConnectionLost?: (error: unknown) => void;
};

export type AssignmentClaimsHandle = AssignmentClaims & {
  /** Ids this process holds claims on now (diagnosis and tests). */
  held(): string[];
  close(): Promise<void>;
};

type Session = { client: pg.Client; lost: boolean };

export function createAssignmentClaims(options: AssignmentClaimsOptions): AssignmentClaimsHandle {
  // A session lock is re-entrant for its session, and every run of this process shares the one
  // session: two runs here on one assignment are kept apart by this set instead.
  const held = new Map<string, Session | "reserved">();
  let session: Promise<Session> | undefined;
  let closed = false;
  // Every run of this process shares the one client.
  const inTurn = takeTurns();

  const connect = async (): Promise<Session> => {
    const client = new pg.Client({
      connectionString: options.databaseUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    const current: Session = { client, lost: false };
    const lose = (error: unknown) => {
      if (current.lost) {
        return;
      }
      current.lost = true;
      client.end().catch(() => undefined);
      if (session !== undefined) {
        // The next claim opens a new session; the locks of this one are gone with it.
        // The session may be this very connect, failing now: its failure is the acquirer's to
        // handle, never an unhandled rejection that would take the whole worker down.
        void session.then(
          (s) => {
            if (s === current) {
              session = undefined;
            }
          },
          () => undefined,
        );
      }
      if (!closed) {
        options.onConnectionLost?.(error);
      }
    };
    client.on("error", lose);
    client.on("end", () => lose(new Error("the claims connection ended")));
    await client.connect();
    for (const statement of SESSION_SETTINGS) {
      await client.query(statement);
    }
    return current;
  };

  const currentSession = (): Promise<Session> => {
    session ??= connect().catch((error: unknown) => {
      session = undefined;
      throw error;
    });
    return session;
  };

  return {
    async acquire(assignmentId): Promise<AssignmentClaim | null> {
      if (closed) {
        throw new Error("the assignment claims are closed");
      }
      if (held.has(assignmentId)) {
        return null;
      }
      // Reserved before the first await, so a second run of this process cannot slip in.
      held.set(assignmentId, "reserved");
      let owner: Session;
      let locked: boolean;
      try {
        owner = await currentSession();
        const result = await inTurn(() =>
          owner.client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked", [
            CLAIM_LOCK_SPACE,
            assignmentId,
          ]),
        );
        locked = result.rows[0]?.locked === true;
      } catch (error) {
        held.delete(assignmentId);
        throw error;
      }
      if (!locked || owner.lost) {
        held.delete(assignmentId);
        return null;
      }
      held.set(assignmentId, owner);
      let released = false;
      return {
        held: () => !released && !owner.lost,
        async release() {
          if (released) {
            return;
          }
          released = true;
          held.delete(assignmentId);
          if (owner.lost) {
            // The session is gone, and its locks with it.
            return;
          }
          await inTurn(() =>
            owner.client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [
              CLAIM_LOCK_SPACE,
              assignmentId,
            ]),
          ).catch(() => {
            // A connection that broke meanwhile took the lock with it; one that is fine but
            // refused cannot leave the lock behind either, as the next run's lock would show.
          });
        },
      };
    },
    held: () => [...held.entries()].filter(([, s]) => s !== "reserved" && !s.lost).map(([id]) => id),
    async close() {
      closed = true;
      const current = session;
      session = undefined;
      if (current !== undefined) {
        const s = await current.catch(() => undefined);
        s?.client.removeAllListeners("end");
        await s?.client.end().catch(() => undefined);
      }
    },
  };
}
