import type { SlackCall, SlackCallFilter } from "./types.js";

type Waiter = {
  matches: (call: SlackCall) => boolean;
  resolve: (call: SlackCall) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
};

const RECENT_IN_TIMEOUT_MESSAGE = 15;

function matcher(filter: SlackCallFilter | undefined): (call: SlackCall) => boolean {
  if (filter === undefined) {
    return () => true;
  }
  if (typeof filter === "string") {
    return (call) => call.method === filter;
  }
  return filter;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One line per call, enough to see why a wait did not match. */
function describeCall(call: SlackCall): string {
  const outcome = call.response.ok ? "ok" : `error=${String(call.response.error)}`;
  const status = call.status === 200 ? "" : ` http=${call.status}`;
  return `${call.method} ${outcome}${status} ${truncate(JSON.stringify(call.args), 160)}`;
}

/**
 * The record of every call, with waiters woken as each call lands: tests await the app's Slack
 * calls instead of polling for them, and the app's work after `ack()` cannot race the wait.
 */
export class SlackCallLog {
  readonly #records: SlackCall[] = [];
  readonly #waiters = new Set<Waiter>();

  add(call: SlackCall): void {
    this.#records.push(call);
    for (const waiter of this.#waiters) {
      let matched: boolean;
      try {
        matched = waiter.matches(call);
      } catch (error) {
        this.#settle(waiter);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (matched) {
        this.#settle(waiter);
        waiter.resolve(call);
      }
    }
  }

  list(filter?: SlackCallFilter): SlackCall[] {
    return this.#records.filter(matcher(filter));
  }

  clear(): void {
    this.#records.length = 0;
  }

  waitFor(method: string, predicate: (call: SlackCall) => boolean, timeoutMs: number): Promise<SlackCall> {
    const matches = (call: SlackCall) => call.method === method && predicate(call);
    return new Promise<SlackCall>((resolve, reject) => {
      let existing: SlackCall | undefined;
      try {
        existing = this.#records.find(matches);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (existing !== undefined) {
        resolve(existing);
        return;
      }
      const waiter: Waiter = {
        matches,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(waiter);
          reject(new Error(this.#timeoutMessage(method, timeoutMs)));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Fails every pending wait, so a test that closes the fake does not hang on one. */
  rejectAll(reason: string): void {
    for (const waiter of this.#waiters) {
      this.#settle(waiter);
      waiter.reject(new Error(reason));
    }
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
  }

  #timeoutMessage(method: string, timeoutMs: number): string {
    const sameMethod = this.#records.filter((call) => call.method === method).length;
    const recent = this.#records.slice(-RECENT_IN_TIMEOUT_MESSAGE);
    const lines =
      recent.length === 0
        ? ["  (none)"]
        : recent.map((call, i) => `  ${this.#records.length - recent.length + i + 1}. ${describeCall(call)}`);
    return [
      `waitForCall("${method}") timed out after ${timeoutMs} ms: ${sameMethod} ${method} call(s) recorded, none matched.`,
      `Recent calls (${recent.length} of ${this.#records.length}):`,
      ...lines,
    ].join("\n");
  }
}
