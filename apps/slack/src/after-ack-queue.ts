// Work that follows an ack (database transactions, Slack calls) must not delay other acks. Node
// runs everything on one thread, so when a burst of interactions arrives, the work of the first
// ones would otherwise interleave with (and postpone) the acks of the rest: measured at ~10x Bolt's
// own p99 for 50 commands + 50 clicks at once (bench/slack-ack). So the HTTP layer reports each
// request and its answer, and queued work runs at full concurrency only while the receiver is
// quiet: no request waiting for its answer and none arrived for `quietMs` (a burst arrives over
// tens of ms, and the gaps between its requests are not its end). While it is busy, work that
// has waited too long still trickles through, one task at a time, so sustained traffic cannot
// starve it; urgent work (opening a modal: the trigger id expires 3 s after the click) is due
// sooner and goes first.

export type AfterAckQueue = {
  /** Called by the HTTP layer for every request, and when its answer has been sent. */
  requestStarted(): void;
  requestFinished(): void;
  run<T>(work: () => Promise<T>, options?: { urgent?: boolean }): Promise<T>;
  /** Requests not answered yet, and work waiting or running (for tests and metrics). */
  stats(): { waitingForAck: number; queued: number; running: number };
  /**
   * Resolves true once nothing is queued or running (and no request waits for its answer), or
   * false after `timeoutMs`: a stopping app lets the work it acknowledged finish, within a bound.
   */
  drained(timeoutMs: number): Promise<boolean>;
};

export type AfterAckQueueOptions = {
  /** Tasks at once while quiet (the database pool is the real limit). */
  concurrency?: number;
  quietMs?: number;
  /** How long urgent / other work waits for quiet before trickling through anyway. */
  urgentDueMs?: number;
  dueMs?: number;
  now?: () => number;
};

type Task = { start: () => void; queuedAt: number; urgent: boolean };

export function createAfterAckQueue(options: AfterAckQueueOptions = {}): AfterAckQueue {
  const concurrency = options.concurrency ?? 8;
  const quietMs = options.quietMs ?? 50;
  const urgentDueMs = options.urgentDueMs ?? 1000;
  const dueMs = options.dueMs ?? 2000;
  const now = options.now ?? Date.now;
  const urgent: Task[] = [];
  const normal: Task[] = [];
  let waitingForAck = 0;
  let lastRequestAt = Number.NEGATIVE_INFINITY;
  let running = 0;
  let scheduled = false;
  let timer: NodeJS.Timeout | undefined;
  let idleWaiters: Array<() => void> = [];

  const head = () => urgent[0] ?? normal[0];
  const idle = () => waitingForAck === 0 && running === 0 && urgent.length === 0 && normal.length === 0;
  const wakeIdleWaiters = () => {
    if (idle() && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) {
        wake();
      }
    }
  };
  const dueAt = (task: Task) => task.queuedAt + (task.urgent ? urgentDueMs : dueMs);

  const drain = () => {
    scheduled = false;
    wakeIdleWaiters();
    for (let task = head(); task !== undefined; task = head()) {
      const at = now();
      const quiet = waitingForAck === 0 && at - lastRequestAt >= quietMs;
      if (running >= (quiet ? concurrency : 1) || (!quiet && at < dueAt(task))) {
        break;
      }
      (task.urgent ? urgent : normal).shift();
      task.start();
    }
    clearTimeout(timer);
    timer = undefined;
    const next = head();
    if (next !== undefined) {
      // Look again when the receiver may have gone quiet, or the next task falls due.
      const at = now();
      const untilQuiet = waitingForAck === 0 ? lastRequestAt + quietMs - at : quietMs;
      timer = setTimeout(schedule, Math.max(1, Math.min(untilQuiet, dueAt(next) - at)));
      timer.unref();
    }
  };

  // Deferred to the check phase, so requests that arrived in the same turn are counted first.
  function schedule() {
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  }

  return {
    requestStarted() {
      waitingForAck++;
      lastRequestAt = now();
    },
    requestFinished() {
      waitingForAck = Math.max(0, waitingForAck - 1);
      if (waitingForAck === 0) {
        schedule();
      }
    },
    run(work, { urgent: isUrgent = false } = {}) {
      return new Promise((resolve, reject) => {
        const task: Task = {
          queuedAt: now(),
          urgent: isUrgent,
          start: () => {
            running++;
            work()
              .then(resolve, reject)
              .finally(() => {
                running--;
                schedule();
              });
          },
        };
        (isUrgent ? urgent : normal).push(task);
        schedule();
      });
    },
    stats: () => ({ waitingForAck, queued: urgent.length + normal.length, running }),
    drained(timeoutMs) {
      if (idle()) {
        return Promise.resolve(true);
      }
      return new Promise<boolean>((resolve) => {
        const timeout = setTimeout(() => {
          idleWaiters = idleWaiters.filter((wake) => wake !== done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(timeout);
          resolve(true);
        };
        idleWaiters.push(done);
      });
    },
  };
}
