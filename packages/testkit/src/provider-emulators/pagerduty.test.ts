import { api } from "@pagerduty/pdjs";
// pdjs exports its parameter and response types only from this module (it has no exports map).
import type { APIParameters, APIResponse } from "@pagerduty/pdjs/build/src/api.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PAGERDUTY_ACCEPT, type PagerDutyEmulator, startPagerDutyEmulator } from "./pagerduty.js";

// The emulator through PagerDuty's own client, @pagerduty/pdjs 2.2.4. pdjs builds
// `https://<server>/<endpoint>`, so it cannot reach plain HTTP through `server`; its `url`
// parameter takes a whole URL, which is how it is pointed at loopback (no patching).

const NOW = Date.parse("2026-03-02T12:00:00Z");
const HOUR = 3600_000;

let pd: PagerDutyEmulator;

beforeEach(async () => {
  pd = await startPagerDutyEmulator({ now: () => NOW });
});

afterEach(async () => {
  await pd.close();
});

type Query = Record<string, string | string[]>;

function get(path: string, query: Query = {}, extra: Partial<APIParameters> = {}): Promise<APIResponse> {
  // retryTimeout: pdjs waits this long before retrying a 429 (three times); keep tests quick.
  return api({ token: pd.token, url: `${pd.url}${path}`, data: query, retryTimeout: 1, ...extra });
}

function seedRotation() {
  const alice = pd.addUser({ name: "Alice Example", email: "alice@example.com" });
  const bob = pd.addUser({ name: "Bob Example", email: "bob@example.com" });
  const primary = pd.addSchedule({ name: "Primary rotation" });
  const secondary = pd.addSchedule({ name: "Secondary rotation" });
  const policy = pd.addEscalationPolicy({ name: "Platform" });
  const other = pd.addEscalationPolicy({ name: "Databases" });
  const aliceNow = pd.addOnCall({
    userId: alice.id,
    escalationPolicyId: policy.id,
    scheduleId: primary.id,
    start: NOW - 3 * HOUR,
    end: NOW + 9 * HOUR,
  });
  const bobLater = pd.addOnCall({
    userId: bob.id,
    escalationPolicyId: policy.id,
    scheduleId: primary.id,
    start: NOW + 9 * HOUR,
    end: NOW + 33 * HOUR,
  });
  const bobSecondary = pd.addOnCall({
    userId: bob.id,
    escalationPolicyId: other.id,
    scheduleId: secondary.id,
    level: 2,
    start: NOW - HOUR,
    end: NOW + HOUR,
  });
  return { alice, bob, primary, secondary, policy, other, aliceNow, bobLater, bobSecondary };
}

describe("auth and headers", () => {
  it("receives pdjs's Token auth header and the versioned Accept header", async () => {
    const response = await get("/users");
    expect(response.status).toBe(200);
    const [call] = pd.calls("GET /users");
    expect(call?.headers.authorization).toBe(`Token token=${pd.token}`);
    expect(call?.headers.accept).toBe(PAGERDUTY_ACCEPT);
  });

  it("answers 401 in PagerDuty's error shape for a wrong token and 403 for a token without access", async () => {
    const wrong = await get("/oncalls", {}, { token: "not-a-token" });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: { message: "Invalid Credentials", code: 2006 } });

    const emulator = await startPagerDutyEmulator({ now: () => NOW, tokens: { limited: "forbidden" } });
    try {
      const forbidden = await api({ token: "limited", url: `${emulator.url}/oncalls` });
      expect(forbidden.status).toBe(403);
      expect(forbidden.data).toEqual({ error: { message: "Access Denied", code: 2010 } });
    } finally {
      await emulator.close();
    }
  });

  it("refuses a request that does not ask for API version 2", async () => {
    const response = await fetch(`${pd.url}/users`, {
      headers: { authorization: `Token token=${pd.token}`, accept: "application/json" },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 2001, errors: [expect.stringContaining("Accept")] },
    });
  });

  it("answers 404 for an unknown path", async () => {
    const response = await get("/incidents-of-the-future");
    expect(response.status).toBe(404);
    expect(response.data).toEqual({ error: { message: "Not Found", code: 2100 } });
  });
});

describe("GET /oncalls", () => {
  it("lists the on-calls overlapping now by default, with references", async () => {
    const { alice, primary, policy, bob, other, secondary } = seedRotation();
    const response = await get("/oncalls");
    expect(response.status).toBe(200);
    expect(response.data).toMatchObject({ limit: 25, offset: 0, more: false, total: null });
    expect(response.data.oncalls).toEqual([
      {
        user: expect.objectContaining({ id: alice.id, type: "user_reference", summary: "Alice Example" }),
        schedule: expect.objectContaining({ id: primary.id, type: "schedule_reference" }),
        escalation_policy: expect.objectContaining({ id: policy.id, type: "escalation_policy_reference" }),
        escalation_level: 1,
        start: "2026-03-02T09:00:00Z",
        end: "2026-03-02T21:00:00Z",
      },
      {
        user: expect.objectContaining({ id: bob.id }),
        schedule: expect.objectContaining({ id: secondary.id }),
        escalation_policy: expect.objectContaining({ id: other.id }),
        escalation_level: 2,
        start: "2026-03-02T11:00:00Z",
        end: "2026-03-02T13:00:00Z",
      },
    ]);
    expect(response.data.oncalls[0].user.email).toBeUndefined();
  });

  it("includes full user objects, with their email, when asked with include[]=users", async () => {
    seedRotation();
    const response = await get("/oncalls", { "include[]": ["users"] });
    expect(response.data.oncalls.map((o: { user: { email: string; type: string } }) => o.user)).toEqual([
      expect.objectContaining({ type: "user", email: "alice@example.com" }),
      expect.objectContaining({ type: "user", email: "bob@example.com" }),
    ]);
  });

  it("filters by schedule_ids[], escalation_policy_ids[] and user_ids[] (all must match)", async () => {
    const { alice, bob, primary, secondary, policy, other } = seedRotation();
    const ids = async (query: Query) =>
      (
        await get("/oncalls", { since: "2026-03-01T00:00:00Z", until: "2026-03-04T00:00:00Z", ...query })
      ).data.oncalls.map((o: { user: { id: string } }) => o.user.id);
    expect(await ids({ "schedule_ids[]": [primary.id] })).toEqual([alice.id, bob.id]);
    expect(await ids({ "schedule_ids[]": [secondary.id, primary.id] })).toEqual([alice.id, bob.id, bob.id]);
    expect(await ids({ "escalation_policy_ids[]": [other.id] })).toEqual([bob.id]);
    expect(await ids({ "user_ids[]": [alice.id] })).toEqual([alice.id]);
    expect(await ids({ "user_ids[]": [alice.id], "escalation_policy_ids[]": [other.id] })).toEqual([]);
    expect(await ids({ "schedule_ids[]": [primary.id], "escalation_policy_ids[]": [policy.id] })).toEqual([
      alice.id,
      bob.id,
    ]);
  });

  it("includes an on-call whose period overlaps [since, until] and excludes one that has ended", async () => {
    const { alice, aliceNow } = seedRotation();
    const at = async (iso: string) =>
      (await get("/oncalls", { since: iso, until: iso, "user_ids[]": [alice.id] })).data.oncalls.length;
    expect(await at("2026-03-02T09:00:00Z")).toBe(1);
    expect(await at("2026-03-02T20:59:59Z")).toBe(1);
    expect(await at("2026-03-02T21:00:00Z")).toBe(0);
    pd.endOnCall(aliceNow.id, NOW);
    expect((await get("/oncalls", { "user_ids[]": [alice.id] })).data.oncalls).toEqual([]);
  });

  it("lists a permanent on-call (direct escalation target) with null start, end and schedule", async () => {
    const carol = pd.addUser({ name: "Carol", email: "carol@example.com" });
    const policy = pd.addEscalationPolicy({ name: "Security" });
    pd.addOnCall({ userId: carol.id, escalationPolicyId: policy.id });
    const response = await get("/oncalls", { "schedule_ids[]": ["null"] });
    expect(response.data.oncalls).toEqual([
      expect.objectContaining({ schedule: null, start: null, end: null, escalation_level: 1 }),
    ]);
  });

  it("keeps only the earliest on-call per policy, level and user with earliest=true", async () => {
    const { bob, primary, policy } = seedRotation();
    pd.addOnCall({
      userId: bob.id,
      escalationPolicyId: policy.id,
      scheduleId: primary.id,
      start: NOW + 57 * HOUR,
      end: NOW + 81 * HOUR,
    });
    const window = { since: "2026-03-02T12:00:00Z", until: "2026-03-07T00:00:00Z", "user_ids[]": [bob.id] };
    expect((await get("/oncalls", window)).data.oncalls).toHaveLength(3);
    const earliest = (await get("/oncalls", { ...window, earliest: "true" })).data.oncalls;
    expect(earliest.map((o: { start: string }) => o.start)).toEqual([
      "2026-03-02T11:00:00Z",
      "2026-03-02T21:00:00Z",
    ]);
  });

  it("renders times with the offset of the account zone or of time_zone", async () => {
    const emulator = await startPagerDutyEmulator({ now: () => NOW, accountTimeZone: "America/New_York" });
    try {
      const user = emulator.addUser({ name: "Dana", email: "dana@example.com" });
      const policy = emulator.addEscalationPolicy({ name: "P" });
      emulator.addOnCall({
        userId: user.id,
        escalationPolicyId: policy.id,
        start: NOW - HOUR,
        end: NOW + HOUR,
      });
      const read = async (query: Query) =>
        (await api({ token: emulator.token, url: `${emulator.url}/oncalls`, data: query })).data.oncalls[0];
      expect(await read({})).toMatchObject({
        start: "2026-03-02T06:00:00-05:00",
        end: "2026-03-02T08:00:00-05:00",
      });
      expect(await read({ time_zone: "Asia/Kolkata" })).toMatchObject({ end: "2026-03-02T18:30:00+05:30" });
      expect(Date.parse((await read({})).end)).toBe(NOW + HOUR);
    } finally {
      await emulator.close();
    }
  });

  it("refuses bad times, an until before since, and a window past 90 days", async () => {
    const bad = await get("/oncalls", { since: "yesterday-ish" });
    expect(bad.status).toBe(400);
    expect(bad.data.error).toMatchObject({ code: 2001, message: "Invalid Input Provided" });
    expect(
      (await get("/oncalls", { since: "2026-03-03T00:00:00Z", until: "2026-03-02T00:00:00Z" })).status,
    ).toBe(400);
    expect((await get("/oncalls", { until: "2026-07-01T00:00:00Z" })).status).toBe(400);
    expect((await get("/oncalls", { "include[]": ["pets"] })).status).toBe(400);
  });

  it("pages with limit/offset/more, capping limit at 100, and walks pages through pdjs's next()", async () => {
    const policy = pd.addEscalationPolicy({ name: "Big" });
    for (let i = 0; i < 30; i++) {
      const user = pd.addUser({ name: `User ${String(i).padStart(2, "0")}`, email: `u${i}@example.com` });
      pd.addOnCall({
        userId: user.id,
        escalationPolicyId: policy.id,
        start: NOW - HOUR - i,
        end: NOW + HOUR,
      });
    }
    const first = await get("/oncalls", { limit: "10", total: "true" });
    expect(first.data).toMatchObject({ limit: 10, offset: 0, more: true, total: 30 });
    const seen: string[] = first.data.oncalls.map((o: { user: { id: string } }) => o.user.id);
    let page = first;
    while (page.next !== undefined) {
      page = await page.next();
      seen.push(...page.data.oncalls.map((o: { user: { id: string } }) => o.user.id));
    }
    expect(page.data).toMatchObject({ offset: 20, more: false });
    expect(new Set(seen).size).toBe(30);
    expect((await get("/oncalls", { limit: "1000" })).data.limit).toBe(100);
  });
});

describe("schedules and users", () => {
  it("lists and gets schedules, with 404 for an unknown one", async () => {
    const { primary, alice } = seedRotation();
    const list = await get("/schedules", { query: "primary" });
    expect(list.data).toMatchObject({
      schedules: [{ id: primary.id, name: "Primary rotation", type: "schedule" }],
    });
    const one = await get(`/schedules/${primary.id}`);
    expect(one.data.schedule).toMatchObject({
      id: primary.id,
      time_zone: "UTC",
      users: expect.arrayContaining([expect.objectContaining({ id: alice.id })]),
    });
    const missing = await get("/schedules/PNOPE00");
    expect(missing.status).toBe(404);
    expect(missing.data).toEqual({ error: { message: "Not Found", code: 2100 } });
  });

  it("lists users by query and gets one by id", async () => {
    const { alice } = seedRotation();
    expect((await get("/users", { query: "alice" })).data.users).toEqual([
      expect.objectContaining({ id: alice.id, email: "alice@example.com", type: "user" }),
    ]);
    expect((await get("/users", { query: "bob@example" })).data.users).toHaveLength(1);
    expect((await get(`/users/${alice.id}`)).data.user).toMatchObject({ name: "Alice Example" });
    expect((await get("/users/PNOPE00")).status).toBe(404);
  });
});

describe("faults", () => {
  it("answers 429 with PagerDuty's rate-limit headers (pdjs retries three times, then returns it)", async () => {
    pd.failNext("GET /oncalls", { kind: "rate-limit", retryAfterSeconds: 12 }, 4);
    const response = await get("/oncalls");
    expect(response.status).toBe(429);
    expect(response.data).toEqual({ error: { message: "Rate Limit Exceeded", code: 2020 } });
    expect(response.headers.get("ratelimit-reset")).toBe("12");
    expect(response.headers.get("ratelimit-remaining")).toBe("0");
    expect(pd.calls("GET /oncalls")).toHaveLength(4);
  });

  it("answers 5xx", async () => {
    pd.failNext("*", { kind: "server-error", status: 503 });
    const response = await get("/oncalls");
    expect(response.status).toBe(503);
  });

  it("sends malformed JSON, which pdjs rejects with the response itself", async () => {
    pd.failNext("GET /oncalls", { kind: "malformed" });
    const rejected = await get("/oncalls").then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(rejected).toMatchObject({ status: 200 });
  });

  it("cuts a page off half way; pdjs (node-fetch 2) only settles through its signal", async () => {
    // Without a signal pdjs never settles on a cut-off body: callers must bound every call.
    seedRotation();
    pd.failNext("GET /oncalls", { kind: "truncated" });
    const rejected = await get("/oncalls", {}, { signal: AbortSignal.timeout(300) }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(rejected).toMatchObject({ status: 200 });
    expect(pd.calls("GET /oncalls")[0]?.outcome).toBe("truncated");
  });

  it("answers late with latency, and never with hang (the client's signal gives up)", async () => {
    pd.failNext("GET /users", { kind: "latency", ms: 50 });
    const started = performance.now();
    expect((await get("/users")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);

    pd.failNext("GET /users", { kind: "hang" });
    await expect(get("/users", {}, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(pd.calls("GET /users").at(-1)?.outcome).toBe("hung");
  });
});
