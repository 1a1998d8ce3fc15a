import { AppError } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { DatabaseError, translateDatabaseError } from "./errors.js";

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

  it("is an AppError, so the worker fails a CONFLICT or an UNKNOWN at once and retries the transient ones", () => {
    const cases = [
      [{ code: "P2002" }, "CONFLICT", false],
      [{ code: "XX000" }, "UNKNOWN", false],
      [{ code: "40001" }, "SERIALIZATION", true],
      [{ code: "P1001" }, "UNAVAILABLE", true],
    ] as const;
    for (const [fields, code, retryable] of cases) {
      const error = translateDatabaseError(Object.assign(new Error("from the driver"), fields));
      expect(error).toBeInstanceOf(AppError);
      expect(error).toBeInstanceOf(DatabaseError);
      expect([error.name, error.code, error.retryable]).toEqual(["DatabaseError", code, retryable]);
    }
  });

  it("keeps a unique violation final", () => {
    const error = translateDatabaseError(
      Object.assign(new Error("Unique constraint failed"), { code: "P2002" }),
    );
    expect([error.code, error.retryable]).toEqual(["CONFLICT", false]);
  });
});
