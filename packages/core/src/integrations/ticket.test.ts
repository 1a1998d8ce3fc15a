import { describe, expect, it } from "vitest";
import {
  checkTicketRequirement,
  normalizeTicketKey,
  type Ticket,
  type TicketLookup,
  type TicketProblemCode,
  type TicketRequirement,
  validateTicket,
} from "./ticket.js";

const NOW = new Date("2026-03-02T12:00:00Z");
const REQUESTER = "rita@example.com";

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    provider: "jira",
    key: "OPS-12",
    title: "Rotate the prod keys",
    url: "https://example.atlassian.net/browse/OPS-12",
    project: "OPS",
    state: { name: "In Progress", category: "open", providerCategory: "indeterminate" },
    assignee: { id: "acc-rita", email: REQUESTER },
    ...overrides,
  };
}

const found = (overrides: Partial<Ticket> = {}): TicketLookup => ({
  kind: "found",
  ticket: ticket(overrides),
  checkedAt: NOW,
});
const jira: TicketRequirement = { provider: "jira", projects: ["OPS", "SEC"] };

function codes(lookup: TicketLookup, requirement: TicketRequirement = jira): TicketProblemCode[] {
  const result = validateTicket({ lookup, requirement, requesterEmail: REQUESTER });
  return result.ok ? [] : result.problems.map((p) => p.code);
}

describe("validateTicket", () => {
  it.each<[string, TicketLookup, TicketRequirement, TicketProblemCode[]]>([
    ["an open ticket in an allowed project", found(), jira, []],
    ["any project when none are listed", found({ project: "HR" }), { provider: "jira" }, []],
    ["project keys compared without case", found({ project: "ops" }), jira, []],
    ["a key that is not one", { kind: "invalid_key", input: "see ticket" }, jira, ["TICKET_INVALID_KEY"]],
    ["a missing ticket", { kind: "not_found", key: "OPS-99", checkedAt: NOW }, jira, ["TICKET_NOT_FOUND"]],
    [
      "a ticket that could not be checked",
      { kind: "check_failed", key: "OPS-12", reason: "timeout", detail: "5 s", checkedAt: NOW },
      jira,
      ["TICKET_CHECK_FAILED"],
    ],
    ["a Linear ticket for a Jira flow", found({ provider: "linear" }), jira, ["TICKET_WRONG_PROVIDER"]],
    ["another project", found({ project: "HR" }), jira, ["TICKET_WRONG_PROJECT"]],
    [
      "a closed ticket",
      found({ state: { name: "Done", category: "closed", providerCategory: "done" } }),
      jira,
      ["TICKET_CLOSED"],
    ],
    [
      "closed even if its state name is allowed",
      found({ state: { name: "Done", category: "closed", providerCategory: "done" } }),
      { ...jira, states: ["Done"] },
      ["TICKET_CLOSED"],
    ],
    [
      "an open state the flow does not accept",
      found({ state: { name: "Backlog", category: "open", providerCategory: "new" } }),
      { ...jira, states: ["In Progress", "In Review"] },
      ["TICKET_STATE_NOT_ALLOWED"],
    ],
    ["state names compared without case", found(), { ...jira, states: ["in progress"] }, []],
    [
      "several failures at once",
      found({
        project: "HR",
        state: { name: "Done", category: "closed", providerCategory: "done" },
        assignee: null,
      }),
      { ...jira, assignedToRequester: true },
      ["TICKET_WRONG_PROJECT", "TICKET_CLOSED", "TICKET_NOT_ASSIGNED_TO_REQUESTER"],
    ],
    [
      "assigned to the requester (email, any case)",
      found({ assignee: { id: "a", email: "RITA@example.com" } }),
      { ...jira, assignedToRequester: true },
      [],
    ],
    [
      "unassigned",
      found({ assignee: null }),
      { ...jira, assignedToRequester: true },
      ["TICKET_NOT_ASSIGNED_TO_REQUESTER"],
    ],
    [
      "assigned to someone else",
      found({ assignee: { id: "b", email: "bob@example.com" } }),
      { ...jira, assignedToRequester: true },
      ["TICKET_NOT_ASSIGNED_TO_REQUESTER"],
    ],
    [
      "a hidden email, matched by account",
      found({ assignee: { id: "a", email: null }, assigneeIsRequester: true }),
      { ...jira, assignedToRequester: true },
      [],
    ],
    [
      "a hidden email, another account",
      found({ assignee: { id: "b", email: null }, assigneeIsRequester: false }),
      { ...jira, assignedToRequester: true },
      ["TICKET_NOT_ASSIGNED_TO_REQUESTER"],
    ],
    [
      "a hidden email that could not be matched",
      found({ assignee: { id: "b", email: null } }),
      { ...jira, assignedToRequester: true },
      ["TICKET_ASSIGNEE_UNVERIFIED"],
    ],
    [
      "a visible email wins over the account flag",
      found({ assignee: { id: "b", email: "bob@example.com" }, assigneeIsRequester: true }),
      { ...jira, assignedToRequester: true },
      ["TICKET_NOT_ASSIGNED_TO_REQUESTER"],
    ],
    ["assignment not required", found({ assignee: null }), jira, []],
  ])("%s", (_name, lookup, requirement, expected) => {
    expect(codes(lookup, requirement)).toEqual(expected);
  });

  it("gives messages a requester can act on", () => {
    const messages = (lookup: TicketLookup, requirement: TicketRequirement = jira) => {
      const result = validateTicket({ lookup, requirement, requesterEmail: REQUESTER });
      return result.ok ? [] : result.problems.map((p) => p.message);
    };
    expect(messages({ kind: "not_found", key: "OPS-99", checkedAt: NOW })).toEqual([
      "OPS-99 was not found in Jira, or Keyturn is not allowed to see it.",
    ]);
    expect(messages(found({ project: "HR" }))).toEqual([
      "OPS-12 is in project HR; this flow accepts tickets from OPS, SEC.",
    ]);
    expect(
      messages(found({ state: { name: "Won't Do", category: "closed", providerCategory: "done" } })),
    ).toEqual(["OPS-12 is closed (Won't Do)."]);
    expect(
      messages(
        {
          kind: "found",
          ticket: ticket({ provider: "linear", key: "ENG-4", project: "DES" }),
          checkedAt: NOW,
        },
        { provider: "linear", projects: ["ENG"] },
      ),
    ).toEqual(["ENG-4 is in team DES; this flow accepts tickets from ENG."]);
    expect(
      messages({ kind: "check_failed", key: "OPS-1", reason: "rate_limited", detail: "", checkedAt: NOW }),
    ).toEqual(["Keyturn could not check OPS-1 in Jira (rate limited); try again in a moment."]);
  });

  it("hands back the ticket when it passes, for the approvers' message", () => {
    const result = validateTicket({ lookup: found(), requirement: jira, requesterEmail: REQUESTER });
    expect(result).toEqual({ ok: true, ticket: ticket() });
  });
});

describe("normalizeTicketKey", () => {
  it.each<["jira" | "linear", string, string | null]>([
    ["jira", "OPS-12", "OPS-12"],
    ["jira", "  ops-12 ", "OPS-12"],
    ["jira", "MY_PROJ2-7", "MY_PROJ2-7"],
    ["jira", "https://acme.atlassian.net/browse/OPS-12", "OPS-12"],
    ["jira", "https://acme.atlassian.net/browse/OPS-12?focusedCommentId=1", "OPS-12"],
    ["jira", "OPS-0", null],
    ["jira", "O-1", null],
    ["jira", "1OPS-1", null],
    ["jira", "OPS-12/../../myself", null],
    ["jira", "OPS-12 please", null],
    ["jira", "http://acme.atlassian.net/browse/OPS-12", null],
    ["linear", "ENG-42", "ENG-42"],
    ["linear", "eng-42", "ENG-42"],
    ["linear", "https://linear.app/acme/issue/ENG-42/fix-the-outage", "ENG-42"],
    ["linear", "ENGINEERING-42", null],
    ["linear", "ENG-42\n", "ENG-42"],
    ["linear", "", null],
  ])("%s %j -> %j", (provider, input, expected) => {
    expect(normalizeTicketKey(provider, input)).toBe(expected);
  });
});

describe("checkTicketRequirement", () => {
  it.each<[string, TicketRequirement, string[]]>([
    ["a sound Jira requirement", { provider: "jira", projects: ["OPS"], states: ["In Progress"] }, []],
    ["a lower-case project key", { provider: "jira", projects: ["ops"] }, ["projects[0]"]],
    ["a Linear team key too long", { provider: "linear", projects: ["ENGINEERING"] }, ["projects[0]"]],
    ["an empty state name", { provider: "linear", states: [" "] }, ["states[0]"]],
  ])("%s", (_name, requirement, paths) => {
    expect(checkTicketRequirement(requirement).map((p) => p.path)).toEqual(paths);
  });
});
