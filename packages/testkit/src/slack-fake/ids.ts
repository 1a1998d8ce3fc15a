import { randomBytes } from "node:crypto";

/**
 * Slack-looking ids (`D0000001`, `V0000002`), sequential per prefix so a test run reads the same
 * way every time.
 */
export class IdSource {
  readonly #counters = new Map<string, number>();

  next(prefix: string): string {
    const n = (this.#counters.get(prefix) ?? 0) + 1;
    this.#counters.set(prefix, n);
    return `${prefix}${n.toString(36).toUpperCase().padStart(8, "0")}`;
  }

  /** A bare counter, for the numeric parts of trigger ids and response URLs. */
  count(name: string): number {
    const n = (this.#counters.get(name) ?? 0) + 1;
    this.#counters.set(name, n);
    return n;
  }
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** Formats microseconds since the epoch the way Slack writes `ts`: "1700000000.000100". */
function formatTs(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  return `${seconds}.${String(fraction).padStart(6, "0")}`;
}

/**
 * Message timestamps. Slack's `ts` is a message's id within a channel, so two messages posted in
 * the same microsecond (or under a frozen test clock) must still get distinct, increasing values.
 */
export class TsClock {
  readonly #now: () => number;
  #last = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  next(): string {
    const micros = Math.max(Math.floor(this.#now() * 1000), this.#last + 1);
    this.#last = micros;
    return formatTs(micros);
  }
}
