import type { CallFilter, CallRecord, ServiceName } from "./types.js";

/** The services that share Identity Center's 20 calls/s quota in the emulator. */
export function isQuotaService(service: ServiceName): boolean {
  return service === "sso-admin" || service === "identitystore";
}

const countsTowardsQuota: CallFilter = (record) => isQuotaService(record.service);

export class CallLog {
  readonly #records: CallRecord[] = [];

  add(record: CallRecord): void {
    this.#records.push(record);
  }

  list(): CallRecord[] {
    return [...this.#records];
  }

  clear(): void {
    this.#records.length = 0;
  }
}

/**
 * The most calls that fall in any window [t, t + windowMs). Counts every call the client sent,
 * throttled ones included, which is what "the client never exceeded N calls/s" is about.
 */
export function maxCallsInAnyWindow(
  records: readonly CallRecord[],
  windowMs = 1000,
  filter: CallFilter = countsTowardsQuota,
): number {
  const times = records
    .filter(filter)
    .map((record) => record.at)
    .sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    const endAt = times[end] ?? 0;
    while ((times[start] ?? endAt) <= endAt - windowMs) {
      start++;
    }
    best = Math.max(best, end - start + 1);
  }
  return best;
}
