import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isApprover } from "../flow/actor.js";
import type { Command } from "./commands.js";
import { decide } from "./decide.js";
import { type AccessRequest, isTerminal, type RequestStatus } from "./state.js";
import { actor, flow, T0 } from "./test-builders.js";

const people = [actor("rita"), actor("ann"), actor("ben"), actor("sam", ["S-SECURITY"]), actor("olga")];
const requester = people[0]!;

const allowedTransitions: Record<RequestStatus, RequestStatus[]> = {
  pending: ["pending", "approved", "denied", "cancelled", "timed_out"],
  approved: ["active", "failed", "revoked"],
  active: ["active", "revoked", "expired"],
  denied: [],
  cancelled: [],
  timed_out: [],
  expired: [],
  revoked: [],
  failed: [],
};

const person = fc.constantFrom(...people, { ...requester, slackGroupIds: ["S-SECURITY"] });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    type: fc.constant("ReviewRequest" as const),
    reviewer: person,
    decision: fc.constantFrom("approve", "approve", "deny"),
  }),
  fc.record({ type: fc.constant("CancelRequest" as const), actor: person, asAdmin: fc.boolean() }),
  fc.constant({ type: "TimeOutRequest" as const }),
  fc.constant({ type: "ActivateRequest" as const }),
  fc.record({
    type: fc.constant("ActivateRequest" as const),
    // Offsets around now: AWS's own record of when access started, possibly before the approval.
    startedAt: fc.integer({ min: -7_200_000, max: 60_000 }).map((ms) => new Date(T0.getTime() + ms)),
  }),
  fc.record({ type: fc.constant("FailRequest" as const), reason: fc.constant("boom") }),
  fc.record({
    type: fc.constant("ExtendRequest" as const),
    actor: person,
    additionalSeconds: fc.integer({ min: -5, max: 4000 }),
  }),
  fc.record({ type: fc.constant("RevokeRequest" as const), actor: person, asAdmin: fc.boolean() }),
  fc.constant({ type: "ExpireRequest" as const }),
  fc.record({
    type: fc.constant("OverrideDecision" as const),
    admin: person,
    decision: fc.constantFrom("approve", "deny"),
    comment: fc.constant("override"),
  }),
);

const scenario = fc.record({
  approvalsRequired: fc.integer({ min: 1, max: 3 }),
  selfApproval: fc.boolean(),
  autoApprove: fc.boolean(),
  // Milliseconds: commands arrive between whole seconds.
  steps: fc.array(fc.tuple(command, fc.integer({ min: 0, max: 7_200_000 })), { maxLength: 25 }),
});

describe("the request state machine, over random command sequences", () => {
  it("keeps its invariants", () => {
    fc.assert(
      fc.property(scenario, ({ approvalsRequired, selfApproval, autoApprove, steps }) => {
        const ref = flow({ approvalsRequired, selfApproval, autoApprove });
        const first = decide(
          null,
          { type: "SubmitRequest", id: "r", flow: ref, requester, reason: "why", source: "api" },
          T0,
        );
        expect(first.ok).toBe(true);
        if (!first.ok) {
          return;
        }
        let state: AccessRequest = first.state;
        let now = T0.getTime();
        // Who each identity was when their review was accepted (group memberships vary per command).
        const reviewedAs = new Map<string, (typeof people)[number]>();
        for (const [cmd, advance] of steps) {
          now += advance;
          const result = decide(state, cmd, new Date(now));
          if (isTerminal(state.status)) {
            // Invariant: nothing leaves a terminal state.
            expect(result.ok).toBe(false);
          }
          if (!result.ok) {
            continue;
          }
          expect(allowedTransitions[state.status]).toContain(result.state.status);
          if (cmd.type === "ReviewRequest") {
            reviewedAs.set(cmd.reviewer.identityId, cmd.reviewer);
          }
          // Every accepted command is recorded by at least one event, and events are about this request.
          expect(result.events.length).toBeGreaterThan(0);
          for (const event of result.events) {
            expect(event.requestId).toBe("r");
            if (event.type === "RequestApproved" && event.mode === "reviews") {
              // n approvals from n distinct, listed approvers.
              expect(new Set(event.approverIds).size).toBe(event.approverIds.length);
              expect(event.approverIds.length).toBeGreaterThanOrEqual(approvalsRequired);
              for (const id of event.approverIds) {
                // As they were when their review was accepted: group memberships vary per command.
                const reviewer = reviewedAs.get(id);
                expect(reviewer !== undefined && isApprover(ref.rules, reviewer)).toBe(true);
              }
              // No self-approval unless allowed, and then it is marked.
              const selfIncluded = event.approverIds.includes(requester.identityId);
              expect(event.selfApproval).toBe(selfIncluded);
              if (selfIncluded) {
                expect(selfApproval).toBe(true);
              }
            }
            if (event.type === "ReviewRecorded" || event.type === "RequestDenied") {
              const reviewerId = event.reviewerId;
              const isOverride = event.type === "RequestDenied" && event.override;
              if (!isOverride && reviewerId === requester.identityId) {
                expect(selfApproval).toBe(true);
              }
            }
          }
          if (result.state.status === "active") {
            expect(result.state.expiresAt).toBeDefined();
            expect(result.state.activatedAt).toBeDefined();
          }
          if (cmd.type === "ActivateRequest") {
            // Access starts between the approval and now, and runs for the requested duration,
            // ending on the whole second at or before it (never longer than approved).
            const { activatedAt, expiresAt, decidedAt, durationSeconds } = result.state;
            expect(activatedAt?.getTime()).toBeGreaterThanOrEqual(decidedAt?.getTime() ?? 0);
            expect(activatedAt?.getTime()).toBeLessThanOrEqual(now);
            const lasts = (activatedAt?.getTime() ?? 0) + durationSeconds * 1000;
            expect((expiresAt?.getTime() ?? 0) % 1000).toBe(0);
            expect(expiresAt?.getTime()).toBeLessThanOrEqual(lasts);
            expect(expiresAt?.getTime()).toBeGreaterThan(lasts - 1000);
          }
          state = result.state;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("rejects without changing anything: a rejected command returns no state", () => {
    fc.assert(
      fc.property(command, (cmd) => {
        const result = decide(null, cmd, T0);
        expect(result).toMatchObject({ ok: false, error: { code: "REQUEST_NOT_FOUND" } });
      }),
    );
  });
});
