import type { TicketLookup } from "@keyturn/core";
import { type LinearEmulator, startLinearEmulator } from "@keyturn/testkit/provider-emulators";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLinearTickets, type LinearTicketsOptions } from "./linear-tickets.js";

// The Linear adapter through the real @linear/sdk against the Linear emulator on loopback.

const NOW = new Date("2026-03-02T12:00:00Z");

let linear: LinearEmulator;

function adapter(overrides: Partial<LinearTicketsOptions> = {}) {
  return createLinearTickets({ apiKey: linear.apiKey, apiUrl: linear.apiUrl, now: () => NOW, ...overrides });
}

async function failedWith(lookup: Promise<TicketLookup>): Promise<string> {
  const result = await lookup;
  expect(result.kind).toBe("check_failed");
  return result.kind === "check_failed" ? result.reason : "";
}

beforeEach(async () => {
  linear = await startLinearEmulator({ now: () => NOW.getTime() });
  linear.addTeam("ENG", "Engineering");
  linear.addTeam("HR", "People");
  linear.addUser({ name: "Rita Requester", email: "rita@example.com" });
});

afterEach(async () => {
  await linear.close();
});

describe("lookups", () => {
  it("finds an issue by identifier in one query, with its state type, team and assignee", async () => {
    linear.createIssue({
      teamKey: "ENG",
      title: "Fix the outage",
      state: "In Progress",
      assigneeEmail: "rita@example.com",
    });
    const result = await adapter().lookup("eng-1");
    expect(result).toEqual({
      kind: "found",
      checkedAt: NOW,
      ticket: {
        provider: "linear",
        key: "ENG-1",
        title: "Fix the outage",
        url: "https://linear.app/keyturn-test/issue/ENG-1",
        project: "ENG",
        state: { name: "In Progress", category: "open", providerCategory: "started" },
        assignee: { id: expect.any(String), email: "rita@example.com" },
      },
    });
    expect(linear.calls()).toHaveLength(1);
    expect(JSON.parse(linear.calls()[0]?.body ?? "{}").variables).toEqual({ id: "ENG-1" });
    expect(linear.calls()[0]?.headers.authorization).toBe(linear.apiKey);
  });

  it.each([
    ["Triage", "open"],
    ["Backlog", "open"],
    ["Todo", "open"],
    ["In Progress", "open"],
    ["Done", "closed"],
    ["Canceled", "closed"],
    ["Duplicate", "closed"],
  ])("reports state %s as %s", async (state, category) => {
    linear.createIssue({ teamKey: "ENG", title: "One", state });
    const result = await adapter().lookup("ENG-1");
    expect(result.kind === "found" && result.ticket.state.category).toBe(category);
  });

  it("answers not_found for a missing issue and one in a team the key cannot see", async () => {
    linear.createIssue({ teamKey: "HR", title: "Salaries" });
    linear.addApiKey({ key: "lin_api_eng_only", userEmail: "eng-bot@example.com", teamKeys: ["ENG"] });
    expect(await adapter().lookup("ENG-7")).toEqual({ kind: "not_found", key: "ENG-7", checkedAt: NOW });
    expect((await adapter({ apiKey: "lin_api_eng_only" }).lookup("HR-1")).kind).toBe("not_found");
  });

  it("refuses text that is not an identifier without asking Linear", async () => {
    for (const input of ["ENG 1", "ENGINEERING-1", '1") { viewer { id } } #']) {
      expect(await adapter().lookup(input)).toEqual({ kind: "invalid_key", input });
    }
    expect(linear.calls()).toHaveLength(0);
  });

  it("asks Linear every time: an issue completed since the last lookup reads as closed", async () => {
    linear.createIssue({ teamKey: "ENG", title: "One" });
    const provider = adapter();
    expect((await provider.lookup("ENG-1")).kind).toBe("found");
    await linear.moveIssue("ENG-1", "Done");
    const after = await provider.lookup("ENG-1");
    expect(after.kind === "found" && after.ticket.state.category).toBe("closed");
  });
});

describe("faults never pass a ticket", () => {
  beforeEach(() => {
    linear.createIssue({ teamKey: "ENG", title: "One" });
  });

  it("a wrong or revoked key -> auth, with no secret in the detail", async () => {
    const wrong = await adapter({ apiKey: "lin_api_not_a_real_key" }).lookup("ENG-1");
    expect(wrong).toMatchObject({ kind: "check_failed", reason: "auth" });
    expect(JSON.stringify(wrong)).not.toContain("lin_api_not_a_real_key");
    linear.revokeApiKey(linear.apiKey);
    expect(await failedWith(adapter().lookup("ENG-1"))).toBe("auth");
  });

  it("rate limiting -> rate_limited; 500 and gateway 5xx -> unavailable", async () => {
    linear.failNext("issue", { kind: "rate-limit" });
    expect(await failedWith(adapter().lookup("ENG-1"))).toBe("rate_limited");
    linear.failNext("issue", { kind: "server-error", status: 500 });
    expect(await failedWith(adapter().lookup("ENG-1"))).toBe("unavailable");
    linear.failNext("issue", { kind: "server-error", status: 502 });
    expect(await failedWith(adapter().lookup("ENG-1"))).toBe("unavailable");
  });

  it("no answer in time, or an answer cut off -> timeout or unavailable", async () => {
    linear.failNext("issue", { kind: "hang" });
    expect(await failedWith(adapter({ timeoutMs: 300 }).lookup("ENG-1"))).toBe("timeout");
    linear.failNext("issue", { kind: "truncated" });
    expect(await failedWith(adapter().lookup("ENG-1"))).toBe("unavailable");
  });

  it("a body that is not JSON, or not shaped as documented -> malformed", async () => {
    linear.failNext("issue", { kind: "malformed" });
    expect(await failedWith(adapter().lookup("ENG-1"))).toBe("malformed");
    const issue = {
      identifier: "ENG-1",
      title: "One",
      url: "https://linear.app/x/issue/ENG-1",
      state: { name: "Limbo", type: "limbo" },
      team: { key: "ENG" },
      assignee: null,
    };
    for (const wrong of [
      { issue },
      { issue: { ...issue, state: null } },
      { issue: { ...issue, url: "javascript:alert(1)" } },
    ]) {
      linear.failNext("issue", { kind: "status", status: 200, body: JSON.stringify({ data: wrong }) });
      expect(await failedWith(adapter().lookup("ENG-1"))).toBe("malformed");
    }
  });

  it("nobody listening -> unavailable", async () => {
    const apiUrl = linear.apiUrl;
    await linear.close();
    expect(await failedWith(adapter({ apiUrl }).lookup("ENG-1"))).toBe("unavailable");
    linear = await startLinearEmulator();
  });
});
