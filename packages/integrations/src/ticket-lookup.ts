import type { TicketCheckFailure, TicketLookup } from "@keyturn/core";
import { DeadlineExceeded, describeFailure } from "./deadline.js";

// What the Jira and Linear adapters share: a failure carried as a value, and the one place a
// thrown error becomes a `check_failed` lookup.

export class TicketCheckFailed extends Error {
  readonly reason: TicketCheckFailure;
  constructor(reason: TicketCheckFailure, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

export function failedLookup(
  key: string,
  checkedAt: Date,
  error: unknown,
  classify: (error: unknown) => TicketCheckFailed | undefined,
): TicketLookup {
  const failure =
    error instanceof TicketCheckFailed
      ? error
      : error instanceof DeadlineExceeded
        ? new TicketCheckFailed("timeout", error.message)
        : (classify(error) ?? new TicketCheckFailed("unavailable", describeFailure(error)));
  return { kind: "check_failed", key, reason: failure.reason, detail: failure.message, checkedAt };
}
