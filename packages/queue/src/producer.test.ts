import { describe, expect, it } from "vitest";
import { toBullJobId } from "./producer.js";

describe("toBullJobId", () => {
  it("escapes BullMQ's key separator reversibly, so distinct ids stay distinct", () => {
    const ids = ["reconcile:a", "reconcile%3Aa", "reconcile.a", "reconcile%a", "a:b:c"];
    const escaped = ids.map(toBullJobId);
    expect(escaped[0]).toBe("reconcile%3Aa");
    expect(new Set(escaped).size).toBe(ids.length);
    for (const id of escaped) {
      expect(id).not.toContain(":");
    }
  });

  it.each(["", "42", "x".repeat(257)])("refuses %j, which BullMQ would mistake or refuse", (id) => {
    expect(() => toBullJobId(id)).toThrow(
      expect.objectContaining({ code: "INVALID_JOB_ID", retryable: false }),
    );
  });
});
