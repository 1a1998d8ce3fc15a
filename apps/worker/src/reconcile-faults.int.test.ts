import { maxCallsInAnyWindow } from "@keyturn/testkit";
import { revokeRequest } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { approver, bulkUsers, useReconcileWorld } from "./test-support.js";

const world = useReconcileWorld();
const request = (id: string) => world.db.accessRequest.findUniqueOrThrow({ where: { id } });

describe("under throttling, conflicts and async failures (fixed seed)", () => {
  it("converges 100 grants and 100 removals inside the quota, and fails permanent errors with AWS's reason", async () => {
    world.emulator.faults.reseed(42);
    world.emulator.faults.set({
      quotas: { enabled: true },
      throttleProbability: 0.3,
      conflictProbability: 0.1,
      // Twice the rate it had with 200 people, so that some creations still fail for certain.
      asyncFailureProbability: 0.1,
    });
    world.emulator.clearCallLog();
    // 100 people (once 200): the faults' share is the same, and the run is quota-bound.
    const grants = await Promise.all(bulkUsers.slice(0, 100).map((u) => world.approve(u.emails[0] ?? "")));
    const run = async (items: typeof grants) => {
      const queue = [...items];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
            await world.reconcileUntilSettled(item.assignmentId);
          }
        }),
      );
    };
    await run(grants);
    const statuses = await world.db.accessRequest.findMany({
      where: { id: { in: grants.map((g) => g.requestId) } },
    });
    const failed = statuses.filter((r) => r.status === "failed");
    expect(statuses.filter((r) => r.status === "active").length + failed.length).toBe(grants.length);
    expect(failed.length).toBeGreaterThan(0);
    for (const request of failed) {
      expect(request.failureReason).toMatch(
        /^AWS could not create the assignment of permission set S3Access in account \d{12} for Identity Center user [0-9a-f-]+ \(user\d+@example.com\): .+ \(AWS request id [0-9a-f-]+\)$/,
      );
    }

    const active = grants.filter((g) => statuses.find((s) => s.id === g.requestId)?.status === "active");
    for (const grant of active) {
      await revokeRequest(world.deps, { requestId: grant.requestId, by: approver, asAdmin: false });
    }
    await run(grants);
    const bulkPrincipals = new Set(
      (await world.db.identity.findMany({ where: { email: { startsWith: "user" } } })).map(
        (i) => i.identityStoreUserId,
      ),
    );
    expect(world.emulator.assignments().filter((a) => bulkPrincipals.has(a.principalId))).toEqual([]);
    for (const grant of active) {
      expect((await request(grant.requestId)).status).toBe("revoked");
    }
    const log = world.emulator.callLog();
    // The faults were really there, and the client still stayed inside the shared quota.
    expect(log.filter((c) => c.outcome === "ThrottlingException").length).toBeGreaterThan(50);
    expect(log.filter((c) => c.outcome === "ConflictException").length).toBeGreaterThan(0);
    expect(log.filter((c) => c.quotaExceeded)).toEqual([]);
    expect(maxCallsInAnyWindow(log, 1000)).toBeLessThanOrEqual(20);
  }, 600_000);
});
