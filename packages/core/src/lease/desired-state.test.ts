import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { desiredState, type LeaseView, nextChangeAt } from "./desired-state.js";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
const lease = (requestId: string, start: number, end: number, released: number | null = null): LeaseView => ({
  requestId,
  startsAt: at(start),
  endsAt: at(end),
  releasedAt: released === null ? null : at(released),
});

describe("desired state of an assignment", () => {
  it("is present while any unreleased lease runs, until the last one ends", () => {
    const leases = [lease("a", 0, 100), lease("b", 50, 300)];
    expect(desiredState("keyturn", leases, at(60))).toEqual({
      present: true,
      until: at(300),
      holders: ["a", "b"],
    });
    expect(desiredState("keyturn", leases, at(200))).toEqual({
      present: true,
      until: at(300),
      holders: ["b"],
    });
    expect(desiredState("keyturn", leases, at(300)).present).toBe(false);
    expect(nextChangeAt(leases, at(60))).toEqual(at(100));
  });

  it("ignores released leases", () => {
    expect(desiredState("keyturn", [lease("a", 0, 100, 10)], at(20)).present).toBe(false);
  });

  it("always keeps a preexisting assignment", () => {
    expect(desiredState("preexisting", [], at(0))).toEqual({ present: true, until: null, holders: [] });
  });

  it("property: ending one of two overlapping leases never removes access the other still needs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 3000 }),
        (start, lenA, lenB, t) => {
          const a = lease("a", start, start + lenA);
          const b = lease("b", start, start + lenB);
          const both = desiredState("keyturn", [a, b], at(t));
          const onlyB = desiredState("keyturn", [{ ...a, releasedAt: at(start) }, b], at(t));
          if (onlyB.present) {
            expect(both.present).toBe(true);
          }
          expect(both.present).toBe(t >= start && t < start + Math.max(lenA, lenB));
        },
      ),
    );
  });
});
