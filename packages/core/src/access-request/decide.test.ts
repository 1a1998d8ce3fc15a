import { describe, expect, it } from "vitest";
import type { Command } from "./commands.js";
import { decide } from "./decide.js";
import type { DecideErrorCode } from "./errors.js";
import type { AccessRequest } from "./state.js";
import { actor, flow, T0 } from "./test-builders.js";

const requester = actor("rita");
const ann = actor("ann");
const ben = actor("ben");
const sec = actor("sam", ["S-SECURITY"]);
const outsider = actor("olga");
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function submitted(overrides: Parameters<typeof flow>[0] = {}): AccessRequest {
  const result = decide(
    null,
    {
      type: "SubmitRequest",
      id: "r1",
      flow: flow(overrides),
      requester,
      reason: "incident 42",
      source: "api",
    },
    T0,
  );
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.state;
}

function run(state: AccessRequest, ...commands: Command[]): AccessRequest {
  let current = state;
  for (const [i, command] of commands.entries()) {
    const result = decide(current, command, later(i + 1));
    if (!result.ok) {
      throw new Error(`${command.type}: ${result.error.message}`);
    }
    current = result.state;
  }
  return current;
}

const approveBy = (reviewer = ann): Command => ({ type: "ReviewRequest", reviewer, decision: "approve" });
const active = () => run(submitted(), approveBy(), { type: "ActivateRequest" });

describe("submit", () => {
  const base = { type: "SubmitRequest", id: "r1", requester, reason: "incident 42", source: "api" } as const;
  const cases: Array<
    [string, Partial<Command & { type: "SubmitRequest" }>, Parameters<typeof flow>[0], DecideErrorCode]
  > = [
    ["duration above max", { durationSeconds: 9 * 3600 }, {}, "DURATION_OUT_OF_RANGE"],
    ["zero duration", { durationSeconds: 0 }, {}, "DURATION_OUT_OF_RANGE"],
    ["fractional duration", { durationSeconds: 1.5 }, {}, "DURATION_OUT_OF_RANGE"],
    [
      "duration below the flow's min",
      { durationSeconds: 600 },
      { minDurationSeconds: 900 },
      "DURATION_OUT_OF_RANGE",
    ],
    [
      "a duration the flow does not offer",
      { durationSeconds: 5400 },
      { offeredDurationsSeconds: [3600, 7200] },
      "DURATION_OUT_OF_RANGE",
    ],
    ["missing reason", { reason: "  " }, {}, "REASON_REQUIRED"],
    [
      "reason not matching",
      { reason: "because" },
      { reason: { required: true, pattern: "INC-\\d+.*" } },
      "REASON_MISMATCH",
    ],
    ["ticket required", {}, { ticket: { required: true } }, "TICKET_REQUIRED"],
    [
      "ticket mismatch",
      { ticket: "PROJ-1x" },
      { ticket: { required: true, pattern: "PROJ-\\d+" } },
      "TICKET_MISMATCH",
    ],
    [
      "unknown target",
      { target: { accountId: "999999999999", permissionSetName: "S3Access" } },
      {},
      "UNKNOWN_TARGET",
    ],
    [
      "several targets and none chosen",
      {},
      {
        targets: [
          { accountId: "111122223333", permissionSetName: "S3Access" },
          { accountId: "444455556666", permissionSetName: "S3Access" },
        ],
      },
      "TARGET_REQUIRED",
    ],
    [
      "not a requester",
      {},
      { requesters: [{ kind: "email", email: "someone@example.com" }] },
      "NOT_A_REQUESTER",
    ],
  ];
  it.each(cases)("rejects %s", (_name, command, flowOverrides, code) => {
    const result = decide(null, { ...base, flow: flow(flowOverrides), ...command }, T0);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe(code);
  });

  it("starts pending with the default duration and a pending deadline", () => {
    const state = submitted();
    expect(state).toMatchObject({ status: "pending", durationSeconds: 3600, pendingUntil: later(3600) });
    expect(state.expiresAt).toBeUndefined();
  });

  it("approves at once when the flow auto-approves", () => {
    const result = decide(null, { ...base, flow: flow({ autoApprove: true }) }, T0);
    expect(result.ok && result.state.status).toBe("approved");
    expect(result.ok && result.events.map((e) => e.type)).toEqual(["RequestSubmitted", "RequestApproved"]);
  });

  it("marks break-glass activations as self-approved", () => {
    const result = decide(null, { ...base, flow: flow({ breakGlass: true }) }, T0);
    expect(result.ok && result.events[1]).toMatchObject({ mode: "break_glass", selfApproval: true });
    expect(result.ok && result.state.breakGlass).toBe(true);
  });

  it("refuses to submit over an existing request", () => {
    const result = decide(submitted(), { ...base, flow: flow() }, T0);
    expect(!result.ok && result.error.code).toBe("REQUEST_EXISTS");
  });
});

describe("review", () => {
  it("approves with one approval from a listed approver", () => {
    const result = decide(submitted(), approveBy(), later(1));
    expect(result.ok && result.state.status).toBe("approved");
    expect(result.ok && result.events).toEqual([
      expect.objectContaining({
        type: "RequestApproved",
        mode: "reviews",
        approverIds: ["id-ann"],
        selfApproval: false,
      }),
    ]);
  });

  it("counts a slack group member as an approver", () => {
    expect(run(submitted(), approveBy(sec)).status).toBe("approved");
  });

  it("needs n approvals from n distinct people", () => {
    const once = run(submitted({ approvalsRequired: 2 }), approveBy(ann));
    expect(once.status).toBe("pending");
    const again = decide(once, approveBy(ann), later(5));
    expect(!again.ok && again.error.code).toBe("ALREADY_REVIEWED");
    expect(run(once, approveBy(ben)).status).toBe("approved");
  });

  it.each([
    ["a non-approver", outsider, {}, "NOT_AN_APPROVER"],
    ["the requester", { ...requester, slackGroupIds: ["S-SECURITY"] }, {}, "SELF_APPROVAL"],
  ] as const)("refuses %s", (_n, reviewer, overrides, code) => {
    const result = decide(submitted(overrides), approveBy(reviewer), later(1));
    expect(!result.ok && result.error.code).toBe(code);
  });

  it("lets the requester approve when the flow allows it, and says so", () => {
    const self = { ...requester, slackGroupIds: ["S-SECURITY"] };
    const result = decide(submitted({ selfApproval: true }), approveBy(self), later(1));
    expect(result.ok && result.events[0]).toMatchObject({ type: "RequestApproved", selfApproval: true });
  });

  it("denies on one deny", () => {
    const result = decide(
      submitted(),
      { type: "ReviewRequest", reviewer: ben, decision: "deny", comment: "no" },
      later(1),
    );
    expect(result.ok && result.state.status).toBe("denied");
  });

  it("answers a review of a decided request with who decided", () => {
    const approved = run(submitted(), approveBy(ann));
    const result = decide(approved, approveBy(ben), later(9));
    expect(!result.ok && result.error).toMatchObject({ code: "ALREADY_DECIDED", status: "approved" });
    expect(!result.ok && result.error.message).toContain("id-ann");
  });
});

describe("override", () => {
  it("lets an admin approve outside the rules, marked as override", () => {
    const result = decide(
      submitted({ approvalsRequired: 2 }),
      { type: "OverrideDecision", admin: outsider, decision: "approve", comment: "incident bridge" },
      later(1),
    );
    expect(result.ok && result.events[0]).toMatchObject({ type: "RequestApproved", mode: "override" });
  });
});

describe("lifecycle", () => {
  it("starts the clock at activation", () => {
    const state = active();
    expect(state.status).toBe("active");
    expect(state.expiresAt).toEqual(new Date(later(2).getTime() + 3600_000));
  });

  it("extends within the flow's limits", () => {
    const extend: Command = { type: "ExtendRequest", actor: requester, additionalSeconds: 1800 };
    const twice = run(active(), extend, extend);
    expect(twice.extensionCount).toBe(2);
    const third = decide(twice, extend, later(10));
    expect(!third.ok && third.error.code).toBe("EXTENSION_LIMIT");
    const tooLong = decide(active(), { ...extend, additionalSeconds: 7200 }, later(10));
    expect(!tooLong.ok && tooLong.error.code).toBe("EXTENSION_TOO_LONG");
  });

  it("routes extensions through approvers when the flow says so", () => {
    const state = run(
      submitted({ extensions: { maxCount: 1, maxExtensionSeconds: 600, requiresApproval: true } }),
      approveBy(),
      {
        type: "ActivateRequest",
      },
    );
    const byRequester = decide(
      state,
      { type: "ExtendRequest", actor: requester, additionalSeconds: 60 },
      later(5),
    );
    expect(!byRequester.ok && byRequester.error.code).toBe("NOT_AN_APPROVER");
    expect(run(state, { type: "ExtendRequest", actor: ben, additionalSeconds: 60 }).extensionCount).toBe(1);
  });

  it("activates at the instant AWS started the access, between the approval and now", () => {
    const approved = run(submitted(), approveBy());
    const decidedAt = approved.decidedAt?.getTime() ?? 0;
    const at = (startedAt: Date, now: Date) => {
      const result = decide(approved, { type: "ActivateRequest", startedAt }, now);
      if (!result.ok) {
        throw new Error(result.error.message);
      }
      return result;
    };
    // A worker died after AWS accepted the create at +5 s; it is recorded at +100 s.
    const late = at(later(5), later(100));
    expect(late.state.activatedAt).toEqual(later(5));
    expect(late.state.expiresAt).toEqual(new Date(later(5).getTime() + approved.durationSeconds * 1000));
    expect(late.events).toEqual([
      {
        type: "RequestActivated",
        requestId: "r1",
        at: later(100),
        activatedAt: later(5),
        expiresAt: late.state.expiresAt,
      },
    ]);
    // Never before the approval, never in the future.
    expect(at(T0, later(100)).state.activatedAt?.getTime()).toBe(decidedAt);
    expect(at(later(500), later(100)).state.activatedAt).toEqual(later(100));
  });

  it("ends on a whole second, never after the approved duration", () => {
    // A whole-second end is what a pre-armed session cut-off (aws:CurrentTime, whole seconds) can
    // start exactly at.
    const approved = run(submitted(), approveBy());
    const startedAt = new Date(later(5).getTime() + 731);
    const result = decide(approved, { type: "ActivateRequest", startedAt }, later(6));
    expect(result.ok && result.state.activatedAt).toEqual(startedAt);
    expect(result.ok && result.state.expiresAt).toEqual(new Date(later(5).getTime() + 3600_000));
    const capped = run(submitted(), approveBy());
    const notAfter = new Date(later(600).getTime() + 999);
    const shift = decide({ ...capped, notAfter }, { type: "ActivateRequest" }, later(7));
    expect(shift.ok && shift.state.expiresAt).toEqual(later(600));
  });

  it("expires only when due", () => {
    const state = active();
    const early = decide(state, { type: "ExpireRequest" }, later(10));
    expect(!early.ok && early.error.code).toBe("NOT_DUE");
    const due = decide(state, { type: "ExpireRequest" }, state.expiresAt ?? T0);
    expect(due.ok && due.state.status).toBe("expired");
  });

  it("times out pending requests only after the pending timeout", () => {
    const early = decide(submitted(), { type: "TimeOutRequest" }, later(10));
    expect(!early.ok && early.error.code).toBe("NOT_DUE");
    const due = decide(submitted(), { type: "TimeOutRequest" }, later(3600));
    expect(due.ok && due.state.status).toBe("timed_out");
  });

  it("lets the requester cancel, not others", () => {
    const other = decide(submitted(), { type: "CancelRequest", actor: ann, asAdmin: false }, later(1));
    expect(!other.ok && other.error.code).toBe("NOT_ALLOWED");
    expect(run(submitted(), { type: "CancelRequest", actor: requester, asAdmin: false }).status).toBe(
      "cancelled",
    );
  });

  it("revokes active access by the requester, an approver or an admin only", () => {
    const stranger = decide(active(), { type: "RevokeRequest", actor: outsider, asAdmin: false }, later(5));
    expect(!stranger.ok && stranger.error.code).toBe("NOT_ALLOWED");
    for (const [who, asAdmin] of [
      [requester, false],
      [ben, false],
      [outsider, true],
    ] as const) {
      expect(run(active(), { type: "RevokeRequest", actor: who, asAdmin }).status).toBe("revoked");
    }
  });

  it("fails an approved request with the reason", () => {
    const state = run(submitted(), approveBy(), { type: "FailRequest", reason: "AWS said no" });
    expect(state).toMatchObject({ status: "failed", failureReason: "AWS said no" });
  });
});
