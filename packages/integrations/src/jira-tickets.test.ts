import { type TicketLookup, validateTicket } from "@keyturn/core";
import { type JiraEmulator, startJiraEmulator } from "@keyturn/testkit/provider-emulators";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createJiraTickets, type JiraTicketsOptions } from "./jira-tickets.js";

// The Jira adapter through the real jira.js against the Jira emulator on loopback.

const NOW = new Date("2026-03-02T12:00:00Z");

let jira: JiraEmulator;

function adapter(overrides: Partial<JiraTicketsOptions> = {}) {
  return createJiraTickets({ siteUrl: jira.url, ...jira.credentials, now: () => NOW, ...overrides });
}

async function failedWith(lookup: Promise<TicketLookup>): Promise<string> {
  const result = await lookup;
  expect(result.kind).toBe("check_failed");
  return result.kind === "check_failed" ? result.reason : "";
}

beforeEach(async () => {
  jira = await startJiraEmulator({ now: () => NOW.getTime() });
  jira.addProject("OPS", "Operations");
  jira.addProject("HR", "People");
  jira.addStatus({ name: "Won't Do", category: "done" });
  jira.addUser({ displayName: "Rita Requester", email: "rita@example.com" });
  jira.addUser({ displayName: "Harry Hidden", email: "harry@example.com", emailVisible: false });
  jira.addUser({ displayName: "Bob", email: "bob@example.com" });
});

afterEach(async () => {
  await jira.close();
});

describe("lookups", () => {
  it("finds an open issue with its title, link, project, state and assignee", async () => {
    jira.createIssue({
      projectKey: "OPS",
      summary: "Rotate the prod keys",
      status: "In Progress",
      assigneeEmail: "rita@example.com",
    });
    const result = await adapter().lookup("ops-1");
    expect(result).toEqual({
      kind: "found",
      checkedAt: NOW,
      ticket: {
        provider: "jira",
        key: "OPS-1",
        title: "Rotate the prod keys",
        url: `${jira.url}/browse/OPS-1`,
        project: "OPS",
        state: { name: "In Progress", category: "open", providerCategory: "indeterminate" },
        assignee: { id: expect.any(String), email: "rita@example.com" },
      },
    });
    const [call] = jira.calls("GET /rest/api/3/issue/{issueIdOrKey}");
    expect(call?.path).toBe("/rest/api/3/issue/OPS-1");
    expect(call?.query.getAll("fields")).toEqual(["summary", "status", "project", "assignee"]);
  });

  it("reads a pasted issue link", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One" });
    expect((await adapter().lookup("https://acme.atlassian.net/browse/OPS-1")).kind).toBe("found");
  });

  it("reports done-category statuses as closed", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One", status: "Done" });
    jira.createIssue({ projectKey: "OPS", summary: "Two", status: "Won't Do" });
    for (const key of ["OPS-1", "OPS-2"]) {
      const result = await adapter().lookup(key);
      expect(result.kind === "found" && result.ticket.state).toMatchObject({
        category: "closed",
        providerCategory: "done",
      });
    }
  });

  it("answers not_found for a missing issue and one in a project the token cannot browse", async () => {
    jira.createIssue({ projectKey: "HR", summary: "Salaries" });
    jira.addCredential({ email: "ops-bot@example.com", apiToken: "ops-only", browseProjects: ["OPS"] });
    expect(await adapter().lookup("OPS-99")).toEqual({ kind: "not_found", key: "OPS-99", checkedAt: NOW });
    expect((await adapter({ email: "ops-bot@example.com", apiToken: "ops-only" }).lookup("HR-1")).kind).toBe(
      "not_found",
    );
  });

  it("refuses text that is not a key without asking Jira (no path tricks reach the API)", async () => {
    for (const input of ["OPS-1/../../myself", "see the ticket", "OPS-1?fields=*all", ""]) {
      expect(await adapter().lookup(input)).toEqual({ kind: "invalid_key", input });
    }
    expect(jira.calls()).toHaveLength(0);
  });

  it("tells whether the requester is the assignee when the assignee's email is hidden", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One", assigneeEmail: "harry@example.com" });
    const asHarry = await adapter().lookup("OPS-1", { requesterEmail: "harry@example.com" });
    expect(asHarry).toMatchObject({
      kind: "found",
      ticket: { assignee: { email: null }, assigneeIsRequester: true },
    });
    const asRita = await adapter().lookup("OPS-1", { requesterEmail: "rita@example.com" });
    expect(asRita).toMatchObject({ kind: "found", ticket: { assigneeIsRequester: false } });
    const requirement = { provider: "jira" as const, assignedToRequester: true };
    expect(validateTicket({ lookup: asHarry, requirement, requesterEmail: "harry@example.com" }).ok).toBe(
      true,
    );
    expect(validateTicket({ lookup: asRita, requirement, requesterEmail: "rita@example.com" })).toMatchObject(
      {
        ok: false,
        problems: [{ code: "TICKET_NOT_ASSIGNED_TO_REQUESTER" }],
      },
    );
  });

  it("cannot tell when the user search is not allowed or is ambiguous", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One", assigneeEmail: "harry@example.com" });
    jira.addCredential({ email: "narrow@example.com", apiToken: "narrow", browseUsers: false });
    const narrow = await adapter({ email: "narrow@example.com", apiToken: "narrow" }).lookup("OPS-1", {
      requesterEmail: "harry@example.com",
    });
    expect(narrow.kind === "found" && narrow.ticket.assigneeIsRequester).toBeUndefined();
    // Someone whose display name starts with Harry's email is found by the same search.
    jira.addUser({
      displayName: "harry@example.com impostor",
      email: "mallory@example.com",
      emailVisible: false,
    });
    const ambiguous = await adapter().lookup("OPS-1", { requesterEmail: "harry@example.com" });
    expect(ambiguous.kind === "found" && ambiguous.ticket.assigneeIsRequester).toBeUndefined();
    expect(
      validateTicket({
        lookup: ambiguous,
        requirement: { provider: "jira", assignedToRequester: true },
        requesterEmail: "harry@example.com",
      }),
    ).toMatchObject({
      ok: false,
      problems: [{ code: "TICKET_ASSIGNEE_UNVERIFIED" }],
    });
  });

  it("asks Jira every time: a ticket closed since the last lookup reads as closed", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One" });
    const provider = adapter();
    expect(
      ((await provider.lookup("OPS-1")) as { ticket: { state: { category: string } } }).ticket.state.category,
    ).toBe("open");
    await jira.transitionIssue("OPS-1", "Done");
    expect(
      ((await provider.lookup("OPS-1")) as { ticket: { state: { category: string } } }).ticket.state.category,
    ).toBe("closed");
  });
});

describe("faults never pass a ticket", () => {
  beforeEach(() => {
    jira.createIssue({ projectKey: "OPS", summary: "One" });
  });

  it("wrong or revoked credentials -> auth, with no secret in the detail", async () => {
    const wrong = await adapter({ apiToken: "the-wrong-token" }).lookup("OPS-1");
    expect(wrong).toMatchObject({ kind: "check_failed", reason: "auth" });
    expect(JSON.stringify(wrong)).not.toContain("the-wrong-token");
    jira.revokeCredential(jira.credentials.apiToken);
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("auth");
  });

  it("429 -> rate_limited; 5xx -> unavailable", async () => {
    jira.failNext("*", { kind: "rate-limit" });
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("rate_limited");
    jira.failNext("*", { kind: "server-error", status: 503 });
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("unavailable");
  });

  it("no answer in time -> timeout", async () => {
    jira.failNext("*", { kind: "hang" });
    expect(await failedWith(adapter({ timeoutMs: 300 }).lookup("OPS-1"))).toBe("timeout");
  });

  it("a body that is not JSON, or not shaped as documented -> malformed", async () => {
    jira.failNext("*", { kind: "malformed" });
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("malformed");
    const shaped = (fields: unknown) => ({
      kind: "status" as const,
      status: 200,
      body: JSON.stringify({ key: "OPS-1", fields }),
    });
    jira.failNext("*", shaped({ summary: "x", project: { key: "OPS" } }));
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("malformed");
    jira.failNext(
      "*",
      shaped({
        summary: "x",
        project: { key: "OPS" },
        status: { name: "Limbo", statusCategory: { key: "undefined" } },
      }),
    );
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("malformed");
  });

  it("an answer cut off, a dropped connection, or nobody listening -> unavailable", async () => {
    jira.failNext("*", { kind: "truncated" });
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("unavailable");
    jira.failNext("*", { kind: "disconnect" });
    expect(await failedWith(adapter().lookup("OPS-1"))).toBe("unavailable");
    const url = jira.url;
    await jira.close();
    expect(await failedWith(adapter({ siteUrl: url }).lookup("OPS-1"))).toBe("unavailable");
    jira = await startJiraEmulator();
  });

  it("a failing user search fails the lookup rather than guessing", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "Two", assigneeEmail: "harry@example.com" });
    jira.failNext("GET /rest/api/3/user/search", { kind: "server-error" });
    expect(await failedWith(adapter().lookup("OPS-2", { requesterEmail: "harry@example.com" }))).toBe(
      "unavailable",
    );
  });
});
