import { reconcileAssignment } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { useReconcileWorld } from "./test-support.js";

const world = useReconcileWorld();

describe("the per-assignment claim", () => {
  it("serializes two runs of the same worker (its approval job and a sweep) like runs of two workers", async () => {
    const { assignmentId } = await world.approve("erin@example.com");
    // One deps object = one worker process: both runs carry the same owner.
    const [a, b] = await Promise.all([
      reconcileAssignment(world.deps, { assignmentId }),
      reconcileAssignment(world.deps, { assignmentId }),
    ]);
    expect([a, b].map((r) => r.ok && r.value.outcome).sort()).toEqual(["busy", "converged"]);
    const identity = await world.db.identity.findUniqueOrThrow({ where: { email: "erin@example.com" } });
    const creates = world.emulator
      .callLog()
      .filter(
        (c) =>
          c.operation === "CreateAccountAssignment" && c.input.PrincipalId === identity.identityStoreUserId,
      );
    expect(creates).toHaveLength(1);
    // And the claim is free again once the run that held it is over.
    const row = await world.db.assignment.findUniqueOrThrow({ where: { id: assignmentId } });
    expect(row.claimedBy).toBeNull();
  });
});
