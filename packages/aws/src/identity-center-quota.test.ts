import { maxCallsInAnyWindow } from "@keyturn/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limiter.js";
import { ACCOUNT, startWorld, type World } from "./test-helpers.js";

// Identity Center's quotas, enforced by the emulator: 20 calls/s shared by sso-admin and
// identitystore (a 21st call in any second is throttled) and 10 creations in progress at once (the
// lower of the two figures AWS documents, the emulator's default).
// The adapter must stay inside both on its own, so not one ThrottlingException may appear.

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

function seedWith(userCount: number, assignedFrom: number) {
  const users = Array.from({ length: userCount }, (_, i) => ({ userName: `user${i}` }));
  return {
    accounts: [ACCOUNT],
    users,
    permissionSets: [{ name: "S3Access" }, { name: "AdministratorAccess", sessionDuration: "PT4H" }],
    assignments: users
      .slice(assignedFrom)
      .map((u) => ({ accountId: ACCOUNT, permissionSet: "S3Access", principal: { userName: u.userName } })),
  };
}

const isCreate = (call: { operation: string; outcome: string }) =>
  call.operation === "CreateAccountAssignment" && call.outcome === "ok";

describe("quotas", () => {
  it("runs 60 creations and 40 removals at once without a throttle, under 20 calls/s and 10 creations in flight", {
    timeout: 60_000,
  }, async ({ annotate }) => {
    // Assignments take 1 s, so at up to 18 creations/s more than 10 would be in flight without
    // the creation slots.
    world = await startWorld({
      emulator: { quotas: { enabled: true }, assignmentDelayMs: 1000 },
      seed: seedWith(100, 60),
    });
    const { emu, seed } = world;
    // The production defaults: 18 calls/s, burst 1, 10 creation slots.
    const ic = world.adapter({ limiter: createRateLimiter(), pollIntervalMs: 1000 });
    const target = (i: number) => ({
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: seed.users[`user${i}`] ?? "",
    });

    const removals = Array.from({ length: 40 }, (_, i) => ic.deleteAssignment(target(60 + i)));
    const creations = Array.from({ length: 60 }, (_, i) => ic.createAssignment(target(i)));
    const outcomes = await Promise.all([...removals, ...creations]);

    expect(outcomes.filter((o) => o.status !== "SUCCEEDED")).toEqual([]);
    const log = emu.callLog();
    expect(log.filter((call) => call.outcome !== "ok")).toEqual([]);
    expect(log.filter((call) => call.quotaExceeded)).toEqual([]);
    const perSecond = emu.maxCallsInAnyWindow(1000);
    expect(perSecond).toBeLessThanOrEqual(20);
    // A creation is in progress for assignmentDelayMs after AWS accepts it, so the creations
    // accepted in any such window are the most that were ever in flight together.
    const inFlight = maxCallsInAnyWindow(log, 1000, isCreate);
    expect(inFlight).toBeLessThanOrEqual(14);
    expect(
      emu
        .assignments()
        .map((a) => a.principalId)
        .sort(),
    ).toEqual(Array.from({ length: 60 }, (_, i) => seed.users[`user${i}`]).sort());

    // Removals go first: every deletion was accepted before the 20th creation.
    const order = log.map((call) => call.operation);
    const lastDelete = order.lastIndexOf("DeleteAccountAssignment");
    const creationsBefore = order
      .slice(0, lastDelete)
      .filter((op) => op === "CreateAccountAssignment").length;
    expect(creationsBefore).toBeLessThan(20);

    const seconds = (log.at(-1)?.at ?? 0) - (log[0]?.at ?? 0);
    await annotate(
      `${log.length} calls in ${(seconds / 1000).toFixed(1)} s; max ${perSecond} in any 1 s window; max ${inFlight} creations in flight`,
    );
  });

  it("sends every queued removal before polling the ones already sent", async () => {
    world = await startWorld({
      emulator: { quotas: { enabled: true }, assignmentDelayMs: 200 },
      seed: seedWith(30, 0),
    });
    const { emu, seed } = world;
    const ic = world.adapter({ limiter: createRateLimiter(), pollIntervalMs: 100 });
    await ic.permissionSet("S3Access");
    emu.clearCallLog();
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ic.deleteAssignment({
          accountId: ACCOUNT,
          permissionSetName: "S3Access",
          principalId: seed.users[`user${i}`] ?? "",
        }),
      ),
    );
    expect(outcomes.every((o) => o.status === "SUCCEEDED")).toBe(true);
    const order = emu.callLog().map((call) => call.operation);
    // Thirty deletes at 18/s take well over the first poll's 100 ms: without the priority, polls
    // of the first deletes would be interleaved with the later deletes.
    expect(order.slice(0, 30)).toEqual(Array(30).fill("DeleteAccountAssignment"));
    expect(new Set(order.slice(30))).toEqual(new Set(["DescribeAccountAssignmentDeletionStatus"]));
    expect(emu.assignments()).toEqual([]);
  });

  it("holds creations to the slots when the call rate would allow more", async () => {
    world = await startWorld({
      emulator: { quotas: { enabled: true, callsPerSecond: 10_000 }, assignmentDelayMs: 300 },
      seed: seedWith(40, 40),
    });
    const { emu, seed } = world;
    const ic = world.adapter({
      limiter: createRateLimiter({ callsPerSecond: 5000, burst: 100 }),
      pollIntervalMs: 100,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ic.createAssignment({
          accountId: ACCOUNT,
          permissionSetName: "S3Access",
          principalId: seed.users[`user${i}`] ?? "",
        }),
      ),
    );
    expect(outcomes.every((o) => o.status === "SUCCEEDED")).toBe(true);
    expect(emu.callLog().filter((call) => call.outcome !== "ok")).toEqual([]);
    expect(maxCallsInAnyWindow(emu.callLog(), 300, isCreate)).toBe(10);
  });

  it("is what keeps the emulator from throttling: with more slots than AWS allows, it does", async () => {
    world = await startWorld({
      emulator: { quotas: { enabled: true, callsPerSecond: 10_000 }, assignmentDelayMs: 300 },
      seed: seedWith(40, 40),
    });
    const { emu, seed } = world;
    const limiter = createRateLimiter({ callsPerSecond: 5000, burst: 100, maxOutstandingCreations: 40 });
    const ic = world.adapter({
      limiter,
      pollIntervalMs: 100,
      retry: { baseMs: 50, capMs: 200, maxAttempts: 20 },
    });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ic.createAssignment({
          accountId: ACCOUNT,
          permissionSetName: "S3Access",
          principalId: seed.users[`user${i}`] ?? "",
        }),
      ),
    );
    expect(emu.callLog().some((call) => call.outcome === "ThrottlingException")).toBe(true);
  });
});
