import { describe, expect, it } from "vitest";
import {
  checkOnCallRule,
  decideOnCall,
  MAX_CHECK_AGE_SECONDS,
  type OnCallCheck,
  type OnCallDecision,
  type OnCallEvidence,
  type OnCallRule,
  type OnCallShift,
} from "./on-call.js";

const NOW = new Date("2026-03-02T12:00:00Z");
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const HOUR = 3600;

const rule: OnCallRule = { provider: "pagerduty", schedules: ["PSCHED1"], escalationPolicies: [] };

const evidence: OnCallEvidence = {
  provider: "pagerduty",
  providerUserId: "PUSER01",
  request: "GET /oncalls?schedule_ids[]=PSCHED1",
  entries: [],
  entriesSeen: 1,
};

function shift(overrides: Partial<OnCallShift> = {}): OnCallShift {
  return {
    matchedBy: "schedule",
    schedule: { id: "PSCHED1", name: "Primary" },
    escalationPolicy: { id: "PPOL001", name: "Platform" },
    escalationLevel: 1,
    startsAt: at(-3 * HOUR),
    endsAt: at(9 * HOUR),
    ...overrides,
  };
}

function onCall(overrides: Partial<OnCallShift> = {}, checkedAt = NOW): OnCallCheck {
  const s = shift(overrides);
  return { kind: "on_call", checkedAt, shift: s, shifts: [s], evidence };
}

function decide(
  check: OnCallCheck,
  requestedDurationSeconds = 2 * HOUR,
  r: OnCallRule = rule,
): OnCallDecision {
  return decideOnCall({ check, rule: r, requestedDurationSeconds, now: NOW });
}

describe("decideOnCall", () => {
  it.each<[string, OnCallCheck, number, OnCallRule, Partial<OnCallDecision>]>([
    [
      "on call with time to spare: the requested duration, ending by the shift's end",
      onCall(),
      2 * HOUR,
      rule,
      { kind: "approve", durationSeconds: 2 * HOUR, capped: false, endsNoLaterThan: at(9 * HOUR) },
    ],
    [
      "on call but the shift ends first: capped at the shift's end",
      onCall({ endsAt: at(30 * 60) }),
      2 * HOUR,
      rule,
      { kind: "approve", durationSeconds: 30 * 60, capped: true, endsNoLaterThan: at(30 * 60) },
    ],
    [
      "cap switched off: the requested duration and no end bound",
      onCall({ endsAt: at(30 * 60) }),
      2 * HOUR,
      { ...rule, capToShift: false },
      { kind: "approve", durationSeconds: 2 * HOUR, capped: false, endsNoLaterThan: null },
    ],
    [
      "a permanent on-call (no end): uncapped",
      onCall({ startsAt: null, endsAt: null, schedule: null, matchedBy: "escalation_policy" }),
      2 * HOUR,
      rule,
      { kind: "approve", durationSeconds: 2 * HOUR, capped: false, endsNoLaterThan: null },
    ],
    [
      "the shift ends in less than the minimum grant",
      onCall({ endsAt: at(5 * 60) }),
      2 * HOUR,
      { ...rule, minGrantSeconds: 15 * 60 },
      { kind: "to_approvers", reason: "shift_ending" },
    ],
    [
      "the shift ended between the check and the decision",
      onCall({ endsAt: at(-1) }),
      2 * HOUR,
      rule,
      { kind: "to_approvers", reason: "shift_ending" },
    ],
    [
      "a shift that has not started yet",
      onCall({ startsAt: at(60), endsAt: at(HOUR) }),
      2 * HOUR,
      rule,
      { kind: "to_approvers", reason: "not_on_call" },
    ],
    [
      "not on call",
      { kind: "not_on_call", checkedAt: NOW, evidence },
      2 * HOUR,
      rule,
      { kind: "to_approvers", reason: "not_on_call" },
    ],
    [
      "a check older than the bound",
      onCall({}, at(-(MAX_CHECK_AGE_SECONDS + 1))),
      2 * HOUR,
      rule,
      { kind: "to_approvers", reason: "check_stale" },
    ],
    [
      "a check dated in the future (a skewed clock)",
      onCall({}, at(MAX_CHECK_AGE_SECONDS + 1)),
      2 * HOUR,
      rule,
      { kind: "to_approvers", reason: "check_stale" },
    ],
    ...(["timeout", "unavailable", "rate_limited", "malformed", "auth", "misconfigured"] as const).map(
      (reason): [string, OnCallCheck, number, OnCallRule, Partial<OnCallDecision>] => [
        `a failed check (${reason})`,
        { kind: "check_failed", checkedAt: NOW, reason, detail: "x" },
        2 * HOUR,
        rule,
        { kind: "to_approvers", reason: "check_failed" },
      ],
    ),
  ])("%s", (_name, check, requested, r, expected) => {
    expect(decide(check, requested, r)).toMatchObject(expected);
  });

  it("never approves beyond the shift's end, whatever the request", () => {
    for (const requested of [60, 600, 3600, 4 * 3600, 9 * 3600, 24 * 3600]) {
      for (const remaining of [120, 601, 3599, 9 * 3600]) {
        const decision = decide(onCall({ endsAt: at(remaining) }), requested);
        expect(decision.kind).toBe("approve");
        if (decision.kind === "approve") {
          expect(decision.durationSeconds).toBe(Math.min(requested, remaining));
          expect(decision.endsNoLaterThan).toEqual(at(remaining));
        }
      }
    }
  });

  it("says why in the note: where, until when, when checked", () => {
    expect(decide(onCall())).toMatchObject({
      note: "Auto-approved: on call in schedule Primary (PSCHED1) until 2026-03-02T21:00:00.000Z, checked at 2026-03-02T12:00:00.000Z.",
    });
    const byPolicy = decide(onCall({ matchedBy: "escalation_policy", escalationLevel: 2, endsAt: at(600) }));
    expect(byPolicy).toMatchObject({
      note: expect.stringContaining(
        "escalation policy Platform (PPOL001), level 2 until 2026-03-02T12:10:00.000Z",
      ),
    });
    expect(byPolicy).toMatchObject({ note: expect.stringContaining("capped at the shift's end") });
    const failed = decide({ kind: "check_failed", checkedAt: NOW, reason: "timeout", detail: "5000 ms" });
    expect(failed).toMatchObject({
      note: "On-call check failed (timeout: the provider did not answer in time) at 2026-03-02T12:00:00.000Z; not auto-approved.",
    });
  });
});

describe("checkOnCallRule", () => {
  it.each<[string, OnCallRule, string[]]>([
    ["a sound rule", rule, []],
    ["policies only", { ...rule, schedules: [], escalationPolicies: ["PPOL001"] }, []],
    ["nothing to check against", { ...rule, schedules: [] }, ["schedules"]],
    ["an id that is not one", { ...rule, schedules: ["P 1; drop"] }, ["schedules[0]"]],
    ["a fractional minimum", { ...rule, minGrantSeconds: 0.5 }, ["minGrantSeconds"]],
    ["level zero", { ...rule, maxEscalationLevel: 0 }, ["maxEscalationLevel"]],
  ])("%s", (_name, r, paths) => {
    expect(checkOnCallRule(r).map((p) => p.path)).toEqual(paths);
  });
});
