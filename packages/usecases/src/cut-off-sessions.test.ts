import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AssignmentForCutoff } from "./bucket-policy-ports.js";
import { cutoffTerms, PREARM_LEAD_MS, PROVISIONAL_STEP_MS } from "./cut-off-sessions.js";

// The cut-off an assignment's history calls for, case by case. The whole story over the real
// adapters, the worker and the AWS emulator is apps/worker/src/session-cutoff.int.test.ts.

const T0 = Date.parse("2030-01-01T12:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const SESSION = 3600; // seconds

const lease = (startsAt: number, endsAt: number, releasedAt: number | null = null) => ({
  requestId: `r-${startsAt}-${endsAt}`,
  startsAt: at(startsAt),
  endsAt: at(endsAt),
  releasedAt: releasedAt === null ? null : at(releasedAt),
});

function assignment(overrides: Partial<AssignmentForCutoff> = {}): AssignmentForCutoff {
  return {
    id: "a-1",
    accountId: "111122223333",
    permissionSetName: "S3Access",
    origin: "keyturn",
    identity: { email: "alice@example.com", identityStoreUserId: "user-1", pinnedAt: at(-3 * HOUR) },
    provisionIntentAt: at(-2 * HOUR),
    observedPresent: null,
    leases: [lease(-2 * HOUR, 0)],
    lastRemovedAt: null,
    ...overrides,
  };
}

const terms = (overrides: Partial<AssignmentForCutoff>, now: number) =>
  cutoffTerms(assignment(overrides), SESSION, at(now));

describe("cutoffTerms", () => {
  it("none while the lease runs", () => {
    expect(terms({}, -1)).toBeNull();
  });

  it("at the lease's end, before Identity Center removed anything: every session refused, provisional end", () => {
    expect(terms({}, 0)).toEqual({
      endedAt: at(0),
      issuedBefore: null,
      closedAt: null,
      until: at(PROVISIONAL_STEP_MS + SESSION * S),
      sessionDurationSeconds: SESSION,
    });
  });

  it("removal still pending after a step: the provisional end moves by a step (new sessions may still come)", () => {
    expect(terms({}, PROVISIONAL_STEP_MS + 1)?.until).toEqual(at(2 * PROVISIONAL_STEP_MS + SESSION * S));
    expect(terms({}, PROVISIONAL_STEP_MS + 2)?.until).toEqual(at(2 * PROVISIONAL_STEP_MS + SESSION * S));
  });

  it("removal confirmed: until the last session issued before it has expired (removal rounded up to the second)", () => {
    expect(terms({ lastRemovedAt: at(17_400) }, 20 * S)).toEqual({
      endedAt: at(0),
      issuedBefore: null,
      closedAt: at(18 * S),
      until: at(18 * S + SESSION * S),
      sessionDurationSeconds: SESSION,
    });
  });

  it("a removal from an earlier grant does not close a later one", () => {
    expect(terms({ lastRemovedAt: at(-3 * HOUR) }, 1)?.closedAt).toBeNull();
  });

  it("ends once every session has expired", () => {
    expect(terms({ lastRemovedAt: at(S) }, S + SESSION * S)).toBeNull();
    expect(terms({ lastRemovedAt: at(S) }, SESSION * S)).not.toBeNull();
  });

  it("revoked early: from the release, not the planned end", () => {
    expect(terms({ leases: [lease(-HOUR, HOUR, -10 * MIN)] }, -5 * MIN)?.endedAt).toEqual(at(-10 * MIN));
  });

  it("extended (or an overlapping lease): no gap, no cut-off", () => {
    expect(terms({ leases: [lease(-2 * HOUR, 0), lease(-HOUR, HOUR)] }, 30 * MIN)).toBeNull();
    expect(terms({ leases: [lease(-2 * HOUR, 0), lease(0, HOUR)] }, 30 * MIN)).toBeNull();
  });

  it("granted again after removal: only sessions issued before the new grant (next whole second) refused", () => {
    const regrant = 5 * MIN + 300;
    expect(
      terms({ leases: [lease(-2 * HOUR, 0), lease(regrant, HOUR)], lastRemovedAt: at(20 * S) }, 6 * MIN),
    ).toEqual({
      endedAt: at(0),
      issuedBefore: at(5 * MIN + S),
      closedAt: at(20 * S),
      until: at(20 * S + SESSION * S),
      sessionDurationSeconds: SESSION,
    });
  });

  it("granted again before Identity Center removed it: gap sessions refused too, until the new grant's start + session", () => {
    const regrant = 3 * S;
    expect(terms({ leases: [lease(-2 * HOUR, 0), lease(regrant, HOUR)] }, 4 * S)).toEqual({
      endedAt: at(0),
      issuedBefore: at(3 * S),
      closedAt: null,
      until: at(3 * S + SESSION * S),
      sessionDurationSeconds: SESSION,
    });
  });

  it("never for an assignment that was there before Keyturn, nor one it never created, nor an unresolved user", () => {
    expect(terms({ origin: "preexisting" }, S)).toBeNull();
    expect(terms({ provisionIntentAt: null }, S)).toBeNull();
    expect(
      terms({ identity: { email: "x@example.com", identityStoreUserId: null, pinnedAt: null } }, S),
    ).toBeNull();
  });

  it("granted to a re-pinned user: access ended before the pin was the previous user's, none for the new one", () => {
    // The identity provider re-provisioned alice (a new Identity Center user id, pinned at +5 min);
    // her earlier grant's sessions carry the old id and stay under the old id's cut-off.
    const identity = { email: "alice@example.com", identityStoreUserId: "user-2", pinnedAt: at(5 * MIN) };
    const leases = [lease(-2 * HOUR, 0), lease(5 * MIN + 300, HOUR)];
    expect(terms({ identity, leases, lastRemovedAt: at(20 * S) }, 6 * MIN)).toBeNull();
    // Her new grant, once ended, is cut off like any other.
    expect(terms({ identity, leases, lastRemovedAt: at(20 * S) }, HOUR + S)).toMatchObject({
      endedAt: at(HOUR),
      issuedBefore: null,
    });
    // Pinned while a grant ran (the grant created for the new user): that grant is hers.
    const during = { ...identity, pinnedAt: at(-HOUR) };
    expect(terms({ identity: during, leases: [lease(-2 * HOUR, 0)] }, S)).toMatchObject({
      endedAt: at(0),
      issuedBefore: null,
    });
  });

  it("ended again after a new grant: every session refused again", () => {
    const leases = [lease(-3 * HOUR, -2 * HOUR), lease(-HOUR, 0)];
    expect(terms({ leases, lastRemovedAt: at(-2 * HOUR + 10 * S) }, S)).toMatchObject({
      endedAt: at(0),
      issuedBefore: null,
      closedAt: null,
    });
  });
});

describe("cutoffTerms, pre-armed (within PREARM_LEAD_MS of the end)", () => {
  const LEAD = PREARM_LEAD_MS;
  const prearm = (overrides: Partial<AssignmentForCutoff>, now: number) =>
    cutoffTerms(assignment(overrides), SESSION, at(now), LEAD);

  it("the terms it will have at its end, starting at the end rounded UP to the second", () => {
    const end = 400; // 0.4 s past the whole second
    expect(prearm({ leases: [lease(-HOUR, end)] }, end - LEAD + 1)).toEqual({
      endedAt: at(end),
      issuedBefore: null,
      closedAt: null,
      until: at(end + PROVISIONAL_STEP_MS + SESSION * S),
      sessionDurationSeconds: SESSION,
      startsAt: at(S),
    });
    // ... the same terms, in force, once the end has come: only the start goes.
    expect(prearm({ leases: [lease(-HOUR, end)] }, end + 1)).toEqual({
      endedAt: at(end),
      issuedBefore: null,
      closedAt: null,
      until: at(end + PROVISIONAL_STEP_MS + SESSION * S),
      sessionDurationSeconds: SESSION,
    });
  });

  it("an end on a whole second starts at that second", () => {
    expect(prearm({ leases: [lease(-HOUR, 10 * S)] }, 0)?.startsAt).toEqual(at(10 * S));
  });

  it("none further ahead than the lead, nor without a lead", () => {
    expect(prearm({ leases: [lease(-HOUR, LEAD + 1)] }, 0)).toBeNull();
    expect(terms({ leases: [lease(-HOUR, 10 * S)] }, 0)).toBeNull();
  });

  it("none once extended (or granted again, overlapping) past the lead", () => {
    expect(prearm({ leases: [lease(-HOUR, 10 * S), lease(5 * S, HOUR)] }, 6 * S)).toBeNull();
    expect(prearm({ leases: [lease(-HOUR, 10 * S), lease(10 * S, HOUR)] }, 0)).toBeNull();
  });

  it("moves with an extension that still ends within the lead", () => {
    expect(prearm({ leases: [lease(-HOUR, 10 * S), lease(-MIN, 40 * S)] }, 0)?.startsAt).toEqual(at(40 * S));
  });

  it("a cut-off in force from an earlier grant is kept, never replaced by a pre-armed one", () => {
    const leases = [lease(-3 * HOUR, -MIN), lease(-30 * S, 10 * S)];
    const kept = prearm({ leases }, 0);
    expect(kept).toMatchObject({ endedAt: at(-MIN), issuedBefore: at(-30 * S) });
    expect(kept).not.toHaveProperty("startsAt");
  });

  it("never for an assignment that was there before Keyturn", () => {
    expect(prearm({ origin: "preexisting", leases: [lease(-HOUR, 10 * S)] }, 0)).toBeNull();
  });

  it("starts at or after the end, less than a second after it, whatever the end", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: LEAD }), fc.integer({ min: 0, max: LEAD - 1 }), (end, ahead) => {
        const now = end - LEAD + ahead;
        const startsAt = prearm({ leases: [lease(-HOUR, end)] }, now)?.startsAt?.getTime();
        expect(startsAt).toBeDefined();
        expect(startsAt).toBeGreaterThanOrEqual(T0 + end);
        expect((startsAt ?? 0) - (T0 + end)).toBeLessThan(S);
        expect((startsAt ?? 0) % S).toBe(0);
      }),
    );
  });
});
