import { describe, expect, it } from "vitest";
import { translateDatabaseError } from "./errors.js";

describe("translateDatabaseError", () => {
  it("takes a transaction Prisma gave up on (P2028: no connection in time, or rolled back on timeout) as retryable", () => {
    for (const message of [
      "Transaction API error: Unable to start a transaction in the given time.",
      "Transaction API error: Transaction already closed: A commit cannot be executed on an expired transaction.",
    ]) {
      const error = translateDatabaseError(Object.assign(new Error(message), { code: "P2028" }));
      expect([error.code, error.retryable]).toEqual(["UNAVAILABLE", true]);
    }
  });

  it("keeps a unique violation final", () => {
    const error = translateDatabaseError(
      Object.assign(new Error("Unique constraint failed"), { code: "P2002" }),
    );
    expect([error.code, error.retryable]).toEqual(["CONFLICT", false]);
  });
});
