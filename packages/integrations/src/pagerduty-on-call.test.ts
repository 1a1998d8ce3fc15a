import type { OnCallCheck, OnCallQuery } from "@keyturn/core";
import {
  type PagerDutyEmulator,
  type PdOnCallSeed,
  startPagerDutyEmulator,
} from "@keyturn/testkit/provider-emulators";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPagerDutyOnCall, type PagerDutyOnCallOptions } from "./pagerduty-on-call.js";

// The adapter through the real @pagerduty/pdjs against the PagerDuty emulator on loopback: every
// answer kind, and every fault ending in check_failed, never in on_call.

const NOW = new Date("2026-03-02T12:00:00Z");
const HOUR = 3600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);

let pd: PagerDutyEmulator;
let ids: {
  primary: string;
  secondary: string;
  platform: string;
  security: string;
  rita: string;
  bob: string;
};

function adapter(overrides: Partial<PagerDutyOnCallOptions> = {}) {
  return createPagerDutyOnCall({
    token: pd.token,
    baseUrl: pd.url,
    now: () => NOW,
    rateLimitRetryDelayMs: 1,
    ...overrides,
  });
}

function query(overrides: Partial<OnCallQuery> = {}): OnCallQuery {
  return { email: "rita@example.com", schedules: [ids.primary], escalationPolicies: [], ...overrides };
}

async function failedWith(check: Promise<OnCallCheck>): Promise<string> {
  const result = await check;
  expect(result.kind).toBe("check_failed");
  return result.kind === "check_failed" ? result.reason : "";
}

/** Rita on call in Primary (Platform) from an hour ago for two hours, unless told otherwise. */
function addShift(overrides: Partial<PdOnCallSeed> = {}) {
  return pd.addOnCall({
    userId: ids.rita,
    escalationPolicyId: ids.platform,
    scheduleId: ids.primary,
    start: at(-HOUR),
    end: at(HOUR),
    ...overrides,
  });
}

/** An on-call entry as PagerDuty lists it with include[]=users, and a page of them as a raw body. */
function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user: { id: ids.rita, email: "rita@example.com" },
    schedule: { id: ids.primary },
    escalation_policy: { id: ids.platform },
    escalation_level: 1,
    start: "2026-03-02T11:00:00Z",
    end: "2026-03-02T13:00:00Z",
    ...overrides,
  };
}

function pageBody(page: Record<string, unknown>) {
  return {
    kind: "status" as const,
    status: 200,
    body: JSON.stringify({ more: false, offset: 0, limit: 100, ...page }),
  };
}

beforeEach(async () => {
  pd = await startPagerDutyEmulator({ now: () => NOW.getTime(), accountTimeZone: "America/New_York" });
  const rita = pd.addUser({ name: "Rita Requester", email: "rita@example.com" });
  const bob = pd.addUser({ name: "Bob", email: "bob@example.com" });
  const primary = pd.addSchedule({ name: "Primary" });
  const secondary = pd.addSchedule({ name: "Secondary" });
  const platform = pd.addEscalationPolicy({ name: "Platform" });
  const security = pd.addEscalationPolicy({ name: "Security" });
  ids = {
    primary: primary.id,
    secondary: secondary.id,
    platform: platform.id,
    security: security.id,
    rita: rita.id,
    bob: bob.id,
  };
});

afterEach(async () => {
  await pd.close();
});

describe("answers", () => {
  it("finds the requester on call in a schedule now, until the shift's end, with PagerDuty's evidence", async () => {
    addShift({ start: at(-3 * HOUR), end: at(9 * HOUR) });
    const result = await adapter().check(query());
    expect(result).toMatchObject({
      kind: "on_call",
      checkedAt: NOW,
      shift: {
        matchedBy: "schedule",
        schedule: { id: ids.primary, name: "Primary" },
        escalationPolicy: { id: ids.platform, name: "Platform" },
        escalationLevel: 1,
        startsAt: at(-3 * HOUR),
        endsAt: at(9 * HOUR),
      },
      evidence: {
        provider: "pagerduty",
        providerUserId: ids.rita,
        entries: [
          { schedule: ids.primary, start: "2026-03-02T04:00:00-05:00", end: "2026-03-02T16:00:00-05:00" },
        ],
        entriesSeen: 1,
      },
    });
    const [call] = pd.calls("GET /oncalls");
    expect(call?.query.getAll("schedule_ids[]")).toEqual([ids.primary]);
    expect(call?.query.getAll("include[]")).toEqual(["users"]);
    expect(call?.query.get("since")).toBe(NOW.toISOString());
    expect(call?.query.get("until")).toBe(NOW.toISOString());
    expect(call?.headers.authorization).toBe(`Token token=${pd.token}`);
  });

  it("finds a direct escalation target (no schedule, no end) through an escalation policy", async () => {
    addShift({ escalationPolicyId: ids.security, scheduleId: null, start: null, end: null });
    const result = await adapter().check(query({ schedules: [], escalationPolicies: [ids.security] }));
    expect(result).toMatchObject({
      kind: "on_call",
      shift: { matchedBy: "escalation_policy", schedule: null, startsAt: null, endsAt: null },
    });
  });

  it("checks schedules and policies both, and takes the shift that lasts longest", async () => {
    addShift();
    addShift({ escalationPolicyId: ids.security, scheduleId: ids.secondary, end: at(5 * HOUR) });
    const result = await adapter().check(query({ escalationPolicies: [ids.security] }));
    expect(result.kind === "on_call" && result.shifts.map((s) => s.endsAt)).toEqual([at(5 * HOUR), at(HOUR)]);
    expect(result).toMatchObject({ shift: { matchedBy: "escalation_policy", endsAt: at(5 * HOUR) } });
    expect(pd.calls("GET /oncalls")).toHaveLength(2);
  });

  it("is not on call when someone else is, or the requester's shift starts later", async () => {
    addShift({ userId: ids.bob });
    addShift({ start: at(HOUR), end: at(9 * HOUR) });
    const result = await adapter().check(query());
    expect(result).toMatchObject({
      kind: "not_on_call",
      evidence: { providerUserId: null, entries: [], entriesSeen: 1 },
    });
  });

  it("is not on call in a schedule the flow does not name", async () => {
    addShift({ scheduleId: ids.secondary });
    expect((await adapter().check(query())).kind).toBe("not_on_call");
  });

  it("matches the email without case, and nobody else's", async () => {
    pd.addUser({ name: "Rita's twin", email: "rita@example.com.evil.test" });
    addShift();
    expect((await adapter().check(query({ email: " RITA@Example.com " }))).kind).toBe("on_call");
    expect((await adapter().check(query({ email: "rita@example.co" }))).kind).toBe("not_on_call");
  });

  it("counts only escalation levels up to the one the rule allows", async () => {
    addShift({ level: 2 });
    expect((await adapter().check(query({ maxEscalationLevel: 1 }))).kind).toBe("not_on_call");
    expect((await adapter().check(query({ maxEscalationLevel: 2 }))).kind).toBe("on_call");
  });

  it("reads every page of a long answer", async () => {
    for (let i = 0; i < 250; i++) {
      const user = pd.addUser({ name: `Responder ${i}`, email: `r${i}@example.com` });
      pd.addOnCall({
        userId: user.id,
        escalationPolicyId: ids.platform,
        scheduleId: ids.primary,
        start: at(-2 * HOUR - i),
        end: at(HOUR),
      });
    }
    addShift();
    const result = await adapter().check(query());
    expect(result).toMatchObject({ kind: "on_call", evidence: { entriesSeen: 251 } });
    expect(pd.calls("GET /oncalls").map((c) => c.query.get("offset"))).toEqual(["0", "100", "200"]);
  });

  it("asks PagerDuty every time: a shift that ended no longer counts", async () => {
    const shift = addShift();
    const provider = adapter();
    expect((await provider.check(query())).kind).toBe("on_call");
    pd.endOnCall(shift.id, NOW);
    expect((await provider.check(query())).kind).toBe("not_on_call");
    expect(pd.calls("GET /oncalls")).toHaveLength(2);
  });

  it("refuses to check a rule with nothing to check against, without asking", async () => {
    expect(await failedWith(adapter().check(query({ schedules: [], escalationPolicies: [] })))).toBe(
      "misconfigured",
    );
    expect(pd.calls()).toHaveLength(0);
  });
});

describe("faults never approve", () => {
  beforeEach(() => {
    addShift();
  });

  it.each([500, 502, 503, 504] as const)("HTTP %i -> unavailable", async (status) => {
    pd.failNext("GET /oncalls", { kind: "server-error", status });
    expect(await failedWith(adapter().check(query()))).toBe("unavailable");
  });

  it("a 429 that outlasts pdjs's retries -> rate_limited", async () => {
    pd.failNext("GET /oncalls", { kind: "rate-limit" }, 4);
    expect(await failedWith(adapter().check(query()))).toBe("rate_limited");
  });

  it("a 429 that clears on pdjs's retry -> the real answer", async () => {
    pd.failNext("GET /oncalls", { kind: "rate-limit" }, 1);
    expect((await adapter().check(query())).kind).toBe("on_call");
  });

  it("a provider that never answers, or answers too late -> timeout", async () => {
    pd.failNext("GET /oncalls", { kind: "hang" });
    expect(await failedWith(adapter({ timeoutMs: 300 }).check(query()))).toBe("timeout");
    pd.failNext("GET /oncalls", { kind: "latency", ms: 1000 });
    expect(await failedWith(adapter({ timeoutMs: 300 }).check(query()))).toBe("timeout");
  });

  it("a page cut off half way -> timeout (pdjs only settles through the deadline's signal)", async () => {
    pd.failNext("GET /oncalls", { kind: "truncated" });
    expect(await failedWith(adapter({ timeoutMs: 300 }).check(query()))).toBe("timeout");
  });

  it("a body that is not JSON -> malformed", async () => {
    pd.failNext("GET /oncalls", { kind: "malformed" });
    expect(await failedWith(adapter().check(query()))).toBe("malformed");
  });

  it("JSON not shaped as documented -> malformed", async () => {
    for (const wrong of [
      { oncalls: [entry({ user: { id: ids.rita, type: "user_reference" } })] },
      { oncalls: [entry({ end: "tomorrow" })] },
      { oncalls: [entry({ end: "2026-03-02 13:00" })] },
      { oncalls: [entry()], more: undefined },
      { oncalls: [], more: true },
      { oncalls: undefined, error: "nope" },
    ]) {
      pd.failNext("GET /oncalls", pageBody(wrong));
      expect(await failedWith(adapter().check(query()))).toBe("malformed");
    }
  });

  it("a page that never ends -> malformed", async () => {
    const endless = pageBody({
      oncalls: [entry({ user: { id: ids.bob, email: "bob@example.com" } })],
      more: true,
    });
    pd.failNext("GET /oncalls", endless, 3);
    expect(await failedWith(adapter({ maxPages: 3 }).check(query()))).toBe("malformed");
  });

  it("an over-broad answer naming other schedules does not approve", async () => {
    pd.failNext(
      "GET /oncalls",
      pageBody({ oncalls: [entry({ schedule: { id: ids.secondary }, start: null, end: null })] }),
    );
    expect((await adapter().check(query())).kind).toBe("not_on_call");
  });

  it("a wrong or forbidden token -> auth, and the detail never carries the token", async () => {
    const wrong = await adapter({ token: "wrong-token-value" }).check(query());
    expect(wrong).toMatchObject({ kind: "check_failed", reason: "auth" });
    expect(JSON.stringify(wrong)).not.toContain("wrong-token-value");
    const limited = await startPagerDutyEmulator({
      now: () => NOW.getTime(),
      tokens: { "limited-token": "forbidden" },
    });
    try {
      const forbidden = await createPagerDutyOnCall({
        token: "limited-token",
        baseUrl: limited.url,
        now: () => NOW,
      }).check(query());
      expect(forbidden).toMatchObject({ kind: "check_failed", reason: "auth" });
    } finally {
      await limited.close();
    }
  });

  it("a dropped connection or nobody listening -> unavailable", async () => {
    pd.failNext("GET /oncalls", { kind: "disconnect" });
    expect(await failedWith(adapter().check(query()))).toBe("unavailable");
    const url = pd.url;
    await pd.close();
    expect(await failedWith(adapter({ baseUrl: url }).check(query()))).toBe("unavailable");
    pd = await startPagerDutyEmulator();
  });

  it("a failure on either of two lists fails the whole check", async () => {
    addShift({ escalationPolicyId: ids.security, start: null, end: null, scheduleId: null });
    pd.failNext("GET /oncalls", { kind: "server-error" });
    expect(await failedWith(adapter().check(query({ escalationPolicies: [ids.security] })))).toBe(
      "unavailable",
    );
  });
});
