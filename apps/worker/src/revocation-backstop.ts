import { type Db, overdueRemovals } from "@keyturn/db";
import type { Logger } from "@keyturn/observability";
import { type Handlers, RunLater } from "@keyturn/queue";
import { AppError } from "@keyturn/usecases";

// Revocation must not depend on the job queue. A token with queues:write can pause Keyturn's queue
// or clean its jobs from the dashboard, and the lease sweep is itself a queued job; a paused or
// emptied queue would then keep access in AWS until someone noticed. So every worker also runs
// this timer in its own process: it asks PostgreSQL which removals are overdue and runs the very
// handler the queue would have run, directly, without BullMQ. Nothing reachable from the
// dashboard can stop it; only stopping the worker does (and every worker runs one).
//
// Overdue means: ended more than `graceMs` ago while the queue is paused (or its Redis cannot say),
// so access still ends by endsAt + the sweep interval; or, while the queue runs, ended more than
// `runningGraceMs` ago, after the lease-end job and a sweep both had their chance (jobs cleaned
// as fast as they are enqueued). When the queue is healthy this finds nothing: removals happen
// within a second of endsAt, a lost job within a sweep. Whatever it runs is serialized with the
// queued jobs by the reconciler's per-assignment claims and shares the Identity Center rate limit.

export type RevocationBackstopOptions = {
  db: Db;
  /** The queue's assignment.reconcile handler, called directly. */
  reconcile: Handlers["assignment.reconcile"];
  now: () => Date;
  logger: Logger;
  /** How often to look; a quarter of the sweep interval. */
  intervalMs: number;
  /** How long after its end a removal counts as overdue while the queue is paused. */
  graceMs: number;
  /** How long after its end a removal counts as overdue while the queue runs. */
  runningGraceMs: number;
  /** Whether the queue is processing jobs (not paused); a failure to tell counts as not. */
  queueRunning: () => Promise<boolean>;
  /** Reconciles at once, at most. */
  concurrency?: number;
  /** Told of each overdue assignment the backstop reconciled (metrics). */
  onReconciled?: (assignmentId: string) => void;
};

export type RevocationBackstop = {
  /** Looks now and runs what is overdue (tests; normally the timer does). */
  runOnce(): Promise<void>;
  close(): Promise<void>;
};

export function startRevocationBackstop(options: RevocationBackstopOptions): RevocationBackstop {
  const concurrency = options.concurrency ?? 4;
  let inFlight: Promise<void> | null = null;
  let closed = false;

  const settle = async (assignmentId: string): Promise<void> => {
    // A deletion AWS is still carrying out is asked about again, as the queue would, until it
    // ended or the backstop is closing.
    for (let attempt = 0; attempt < 20 && !closed; attempt++) {
      try {
        const now = options.now();
        await options.reconcile(
          { assignmentId, cause: "sweep" },
          {
            name: "assignment.reconcile",
            jobId: `backstop-${assignmentId}-${now.getTime()}`,
            attempt: attempt + 1,
            // Never the last chance: the next pass tries again.
            maxAttempts: Number.MAX_SAFE_INTEGER,
            enqueuedAt: now,
          },
        );
        options.onReconciled?.(assignmentId);
        return;
      } catch (error) {
        if (error instanceof RunLater) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(error.delayMs, options.intervalMs)));
          continue;
        }
        if (error instanceof AppError && error.code === "ASSIGNMENT_BUSY") {
          // A queued job or another worker holds it right now: it is being handled.
          return;
        }
        throw error;
      }
    }
  };

  const pass = async () => {
    const running = await options.queueRunning().catch(() => false);
    const now = options.now();
    const overdue = await overdueRemovals(options.db, {
      now,
      endedBefore: new Date(now.getTime() - (running ? options.runningGraceMs : options.graceMs)),
    });
    if (overdue.length === 0) {
      return;
    }
    options.logger.warn(
      { count: overdue.length },
      "revocation backstop: removals overdue (the job queue is paused, emptied or far behind); removing them directly",
    );
    const queue = [...overdue];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let next = queue.shift(); next !== undefined && !closed; next = queue.shift()) {
          await settle(next).catch((error: unknown) => {
            options.logger.error({ err: error, assignmentId: next }, "revocation backstop: reconcile failed");
          });
        }
      }),
    );
  };

  const runOnce = () => {
    inFlight ??= pass()
      .catch((error: unknown) => {
        options.logger.error({ err: error }, "revocation backstop: could not look for overdue removals");
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
  const timer = setInterval(() => {
    void runOnce();
  }, options.intervalMs);

  return {
    runOnce,
    async close() {
      closed = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
