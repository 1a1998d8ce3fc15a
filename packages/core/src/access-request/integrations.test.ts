import { describe, expect, it } from "vitest";
import type { OnCallCheck, OnCallShift } from "../integrations/on-call.js";
import type { Ticket, TicketLookup } from "../integrations/ticket.js";
import type { Command } from "./commands.js";
import { decide } from "./decide.js";
import type { AccessRequest } from "./state.js";
import { actor, flow, T0 } from "./test-builders.js";

// On-call approval and ticket-bound access as the state machine applies them: decided once,
// capped, refused on any failed check.

const HOUR = 3600;
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const alice = actor("alice");

const onCallFlow = (cap: { maxGrantSeconds?: number; capToShift?: boolean } = {}) =>
  flow({
    onCallApproval: { provider: "pagerduty", schedules: ["PSCHED1"], escalationPolicies: [], ...cap },
  });

function submitted(command: Partial<Extract<Command, { type: "SubmitRequest" }>> = {}): AccessRequest {
  const decision = decide(
    null,
    {
      type: "SubmitRequest",
      id: "r1",
      flow: onCallFlow(),
      requester: alice,
      reason: "incident",
      source: "slack",
      durationSeconds: 4 * HOUR,
      ...command,
    },
    T0,
  );
  if (!decision.ok) {
    throw new Error(decision.error.message);
  }
  return decision.state;
}

const shift: OnCallShift = {
  matchedBy: "schedule",
  schedule: { id: "PSCHED1", name: "Primary" },
  escalationPolicy: { id: "PPOL001", name: "Platform" },
  escalationLevel: 1,
  startsAt: at(-HOUR),
  endsAt: at(2 * HOUR),
};
const evidence = {
  provider: "pagerduty" as const,
  providerUserId: "PU1",
  request: "GET /oncalls",
  entries: [],
  entriesSeen: 1,
};
const onCall: OnCallCheck = { kind: "on_call", checkedAt: T0, shift, shifts: [shift], evidence };

describe("on-call approval", () => {
  it("stays pending at submission: the provider is asked afterwards", () => {
    expect(submitted().status).toBe("pending");
  });

  it("approves an on-call requester by Keyturn, capped at the shift's end, with the evidence", () => {
    const decision = decide(submitted(), { type: "RecordOnCallCheck", check: onCall }, T0);
    expect(decision.ok).toBe(true);
    if (!decision.ok) {
      return;
    }
    expect(decision.state).toMatchObject({
      status: "approved",
      durationSeconds: 2 * HOUR,
      notAfter: at(2 * HOUR),
    });
    expect(decision.events).toEqual([
      expect.objectContaining({
        type: "RequestApproved",
        mode: "on_call",
        approverIds: [],
        onCall: expect.objectContaining({ capped: true, evidence, note: expect.stringContaining("Primary") }),
      }),
    ]);
  });

  it("activation late in the shift still ends at the shift's end", () => {
    const approved = decide(submitted(), { type: "RecordOnCallCheck", check: onCall }, T0);
    if (!approved.ok) {
      throw new Error("not approved");
    }
    const active = decide(approved.state, { type: "ActivateRequest" }, at(HOUR));
    expect(active.ok && active.state.expiresAt).toEqual(at(2 * HOUR));
  });

  it("caps the grant at the flow's maxGrantSeconds", () => {
    const request = { ...submitted(), flow: onCallFlow({ maxGrantSeconds: 1800, capToShift: false }) };
    const decision = decide(request, { type: "RecordOnCallCheck", check: onCall }, T0);
    expect(decision.ok && decision.state.durationSeconds).toBe(1800);
  });

  it.each<[string, OnCallCheck]>([
    ["not on call", { kind: "not_on_call", checkedAt: T0, evidence }],
    ["a failed check", { kind: "check_failed", checkedAt: T0, reason: "unavailable", detail: "HTTP 503" }],
    [
      "a rate-limited check",
      { kind: "check_failed", checkedAt: T0, reason: "rate_limited", detail: "HTTP 429" },
    ],
    ["a stale answer", { ...onCall, checkedAt: at(-10 * 60) }],
  ])("leaves the request with the approvers on %s, with a note", (_name, check) => {
    const decision = decide(submitted(), { type: "RecordOnCallCheck", check }, T0);
    expect(decision.ok).toBe(true);
    if (!decision.ok) {
      return;
    }
    expect(decision.state.status).toBe("pending");
    expect(decision.events).toEqual([
      expect.objectContaining({ type: "OnCallNotApproved", note: expect.any(String) }),
    ]);
  });

  it("records one check only, and none on a decided request", () => {
    const first = decide(
      submitted(),
      { type: "RecordOnCallCheck", check: { kind: "not_on_call", checkedAt: T0, evidence } },
      T0,
    );
    if (!first.ok) {
      throw new Error("refused");
    }
    const again = decide(first.state, { type: "RecordOnCallCheck", check: onCall }, T0);
    expect(again.ok ? "ok" : again.error.code).toBe("ALREADY_CHECKED");
    const denied = { ...submitted(), status: "denied" as const };
    const late = decide(denied, { type: "RecordOnCallCheck", check: onCall }, T0);
    expect(late.ok ? "ok" : late.error.code).toBe("ALREADY_DECIDED");
  });

  it("refuses an extension past the shift's end", () => {
    const approved = decide(submitted(), { type: "RecordOnCallCheck", check: onCall }, T0);
    if (!approved.ok) {
      throw new Error("refused");
    }
    const active = decide(approved.state, { type: "ActivateRequest" }, T0);
    if (!active.ok) {
      throw new Error("refused");
    }
    const extended = decide(
      active.state,
      { type: "ExtendRequest", actor: alice, additionalSeconds: 600 },
      T0,
    );
    expect(extended.ok ? "ok" : extended.error.code).toBe("EXTENSION_TOO_LONG");
  });
});

const ticketFlow = flow({
  ticket: { required: true, check: { provider: "jira", projects: ["OPS"], assignedToRequester: true } },
});
const ticket: Ticket = {
  provider: "jira",
  key: "OPS-7",
  title: "Disk full on db-1",
  url: "https://acme.atlassian.net/browse/OPS-7",
  project: "OPS",
  state: { name: "In Progress", category: "open", providerCategory: "indeterminate" },
  assignee: { id: "acc-1", email: "alice@example.com" },
};
const found = (overrides: Partial<Ticket> = {}): TicketLookup => ({
  kind: "found",
  ticket: { ...ticket, ...overrides },
  checkedAt: T0,
});

function submitWithTicket(lookup: TicketLookup | undefined, typed = "ops-7") {
  return decide(
    null,
    {
      type: "SubmitRequest",
      id: "r2",
      flow: ticketFlow,
      requester: alice,
      reason: "fix",
      ticket: typed,
      source: "api",
      ...(lookup === undefined ? {} : { ticketLookup: lookup }),
    },
    T0,
  );
}

describe("ticket-bound access", () => {
  it("links a valid ticket (title, link, state) under its canonical key", () => {
    const decision = submitWithTicket(found());
    expect(decision.ok && decision.state).toMatchObject({
      ticket: "OPS-7",
      linkedTicket: { provider: "jira", key: "OPS-7", title: "Disk full on db-1", state: "In Progress" },
    });
  });

  it.each<[string, TicketLookup, string]>([
    ["not found", { kind: "not_found", key: "OPS-7", checkedAt: T0 }, "TICKET_NOT_FOUND"],
    ["in another project", found({ project: "ENG", key: "OPS-7" }), "TICKET_WRONG_PROJECT"],
    [
      "closed",
      found({ state: { name: "Done", category: "closed", providerCategory: "done" } }),
      "TICKET_CLOSED",
    ],
    [
      "not the requester's",
      found({ assignee: { id: "acc-2", email: "bob@example.com" } }),
      "TICKET_NOT_ASSIGNED_TO_REQUESTER",
    ],
    [
      "unchecked (provider failed)",
      { kind: "check_failed", key: "OPS-7", reason: "timeout", detail: "5000 ms", checkedAt: T0 },
      "TICKET_CHECK_FAILED",
    ],
  ])("refuses a ticket %s with the precise reason", (_name, lookup, code) => {
    const decision = submitWithTicket(lookup);
    expect(decision.ok).toBe(false);
    if (decision.ok) {
      return;
    }
    expect(decision.error.code).toBe("TICKET_REJECTED");
    expect(decision.error.problems?.map((p) => p.code)).toContain(code);
  });

  it("refuses when no lookup, or a lookup of another ticket, came with the command", () => {
    const none = submitWithTicket(undefined);
    expect(none.ok ? "ok" : none.error.code).toBe("TICKET_UNCHECKED");
    const other = submitWithTicket(found({ key: "OPS-8" }));
    expect(other.ok ? "ok" : other.error.code).toBe("TICKET_UNCHECKED");
  });

  it("ends approved or active access when its ticket closes, once", () => {
    const submittedRequest = submitWithTicket(found());
    if (!submittedRequest.ok) {
      throw new Error("refused");
    }
    const active: AccessRequest = {
      ...submittedRequest.state,
      status: "active",
      activatedAt: T0,
      expiresAt: at(HOUR),
    };
    const command: Command = { type: "EndForClosedTicket", provider: "jira", key: "OPS-7", state: "Done" };
    const ended = decide(active, command, at(60));
    expect(ended.ok && ended.state).toMatchObject({
      status: "revoked",
      endReason: "ended: ticket OPS-7 closed (Done)",
    });
    expect(ended.ok && ended.events[0]).toMatchObject({
      type: "RequestRevoked",
      by: "keyturn",
      ticket: { key: "OPS-7" },
    });
    if (!ended.ok) {
      return;
    }
    const twice = decide(ended.state, command, at(61));
    expect(twice.ok ? "ok" : twice.error.code).toBe("INVALID_TRANSITION");
    const otherTicket = decide(active, { ...command, key: "OPS-8" }, at(60));
    expect(otherTicket.ok ? "ok" : otherTicket.error.code).toBe("NOT_ALLOWED");
  });
});
