import { GetUserIdCommand } from "@aws-sdk/client-identitystore";
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  ListInstancesCommand,
  type SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import { describe, expect, it } from "vitest";
import { maxCallsInAnyWindow } from "./call-log.js";
import { startAwsEmulator } from "./server.js";
import {
  ACCOUNT,
  caught,
  identityStoreClient,
  ssoAdminClient,
  standardSeed,
  waitForStatus,
} from "./test-helpers.js";
import type { AwsEmulator, AwsEmulatorOptions, CallRecord, SeedResult } from "./types.js";

async function withEmulator(
  options: AwsEmulatorOptions,
  run: (emulator: AwsEmulator, client: SSOAdminClient, seed: SeedResult) => Promise<void>,
): Promise<void> {
  const emulator = await startAwsEmulator(options);
  const base = standardSeed();
  const users = Array.from({ length: 20 }, (_, i) => ({ userName: `user${i}` }));
  const seed = emulator.seed({ ...base, users: [...(base.users ?? []), ...users] });
  const client = ssoAdminClient(emulator);
  try {
    await run(emulator, client, seed);
  } finally {
    client.destroy();
    await emulator.close();
  }
}

function assignment(seed: SeedResult, user: string) {
  return {
    InstanceArn: seed.instanceArn,
    TargetId: ACCOUNT,
    TargetType: "AWS_ACCOUNT" as const,
    PermissionSetArn: seed.permissionSets.S3Access,
    PrincipalType: "USER" as const,
    PrincipalId: seed.users[user],
  };
}

async function outcomes(client: SSOAdminClient, calls: number): Promise<string[]> {
  const results: string[] = [];
  for (let i = 0; i < calls; i++) {
    try {
      await client.send(new ListInstancesCommand({}));
      results.push("ok");
    } catch (error) {
      results.push(error instanceof Error ? error.name : "?");
    }
  }
  return results;
}

describe("quotas", () => {
  it("throttles the 21st call in a second shared by sso-admin and identitystore", async () => {
    let clock = 1_000_000;
    await withEmulator({ now: () => clock, quotas: { enabled: true } }, async (emulator, client, seed) => {
      const identity = identityStoreClient(emulator);
      try {
        expect(await outcomes(client, 15)).toEqual(Array(15).fill("ok"));
        for (let i = 0; i < 5; i++) {
          await identity.send(
            new GetUserIdCommand({
              IdentityStoreId: seed.identityStoreId,
              AlternateIdentifier: {
                UniqueAttribute: { AttributePath: "userName", AttributeValue: "alice" },
              },
            }),
          );
        }
        const throttled = await caught(client.send(new ListInstancesCommand({})));
        expect(throttled.name).toBe("ThrottlingException");
        expect(throttled.$metadata?.httpStatusCode).toBe(400);
        expect(emulator.maxCallsInAnyWindow()).toBe(21);
        expect(emulator.callLog().filter((call) => call.quotaExceeded)).toHaveLength(1);

        clock += 999;
        expect((await caught(client.send(new ListInstancesCommand({})))).name).toBe("ThrottlingException");
        clock += 1;
        expect(await outcomes(client, 1)).toEqual(["ok"]);
      } finally {
        identity.destroy();
      }
    });
  });

  it("records calls beyond the quota even when it is not enforced", async () => {
    const clock = 5_000;
    await withEmulator({ now: () => clock }, async (emulator, client) => {
      expect(await outcomes(client, 25)).toEqual(Array(25).fill("ok"));
      expect(emulator.maxCallsInAnyWindow(1000)).toBe(25);
      expect(emulator.callLog().filter((call) => call.quotaExceeded)).toHaveLength(5);
    });
  });

  it("allows at most 10 outstanding creations by default (the stricter documented figure)", async () => {
    let clock = 0;
    await withEmulator(
      { now: () => clock, assignmentDelayMs: 500, quotas: { enabled: true, callsPerSecond: 1000 } },
      async (_emulator, client, seed) => {
        for (let i = 0; i < 10; i++) {
          const created = await client.send(new CreateAccountAssignmentCommand(assignment(seed, `user${i}`)));
          expect(created.AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
        }
        const refused = await caught(
          client.send(new CreateAccountAssignmentCommand(assignment(seed, "user10"))),
        );
        expect(refused.name).toBe("ThrottlingException");
        expect(refused.message).toContain("Too many requests");
        clock += 500;
        const accepted = await client.send(new CreateAccountAssignmentCommand(assignment(seed, "user10")));
        expect(accepted.AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
      },
    );
  });
});

describe("faults", () => {
  it("fails the next N calls of an operation with a chosen code", async () => {
    await withEmulator({}, async (emulator, client) => {
      emulator.faults.failNext({ operation: "ListInstances", code: "InternalServerException", count: 2 });
      const first = await caught(client.send(new ListInstancesCommand({})));
      expect(first.name).toBe("InternalServerException");
      expect(first.$metadata?.httpStatusCode).toBe(500);
      expect((await caught(client.send(new ListInstancesCommand({})))).name).toBe("InternalServerException");
      expect(await outcomes(client, 1)).toEqual(["ok"]);
    });
  });

  // A server error, not throttling: the SDK backs off from throttling for seconds.
  it("lets the SDK's own retries absorb injected transient errors", async () => {
    await withEmulator({}, async (emulator) => {
      const retrying = ssoAdminClient(emulator, { maxAttempts: 3 });
      try {
        emulator.faults.failNext({ operation: "ListInstances", code: "InternalServerException", count: 2 });
        const output = await retrying.send(new ListInstancesCommand({}));
        expect(output.$metadata.attempts).toBe(3);
        expect(emulator.callLog().map((call) => call.outcome)).toEqual([
          "InternalServerException",
          "InternalServerException",
          "ok",
        ]);
      } finally {
        retrying.destroy();
      }
    });
  });

  it("ends assignment requests FAILED with a reason visible through Describe", async () => {
    await withEmulator({ assignmentDelayMs: 5 }, async (emulator, client, seed) => {
      emulator.faults.failNextAssignment({
        kind: "creation",
        reason: "LimitExceeded: Cannot exceed quota for RolesPerAccount: 1000",
      });
      const created = await client.send(new CreateAccountAssignmentCommand(assignment(seed, "alice")));
      expect(created.AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
      const status = await waitForStatus(
        client,
        seed.instanceArn,
        "creation",
        created.AccountAssignmentCreationStatus?.RequestId,
      );
      expect(status).toMatchObject({
        Status: "FAILED",
        FailureReason: "LimitExceeded: Cannot exceed quota for RolesPerAccount: 1000",
      });
      expect(emulator.assignments()).toEqual([]);
      expect(emulator.roles()).toEqual([]);

      emulator.faults.set({ asyncFailureProbability: 1 });
      const again = await client.send(new CreateAccountAssignmentCommand(assignment(seed, "alice")));
      const failed = await waitForStatus(
        client,
        seed.instanceArn,
        "creation",
        again.AccountAssignmentCreationStatus?.RequestId,
      );
      expect(failed.FailureReason).toContain("Received a 404 status error");
    });
  });

  it("injects ConflictException by probability", async () => {
    await withEmulator({ assignmentDelayMs: 0 }, async (emulator, client, seed) => {
      emulator.faults.set({ conflictProbability: 1 });
      expect(
        (await caught(client.send(new CreateAccountAssignmentCommand(assignment(seed, "alice"))))).name,
      ).toBe("ConflictException");
      expect(
        (await caught(client.send(new DeleteAccountAssignmentCommand(assignment(seed, "alice"))))).name,
      ).toBe("ConflictException");
      emulator.faults.reset();
      const created = await client.send(new CreateAccountAssignmentCommand(assignment(seed, "alice")));
      expect(created.AccountAssignmentCreationStatus?.Status).toBe("SUCCEEDED");
    });
  });

  it("replays the same fault schedule from the same seed", async () => {
    const schedule = async (seed: number): Promise<string[]> => {
      let result: string[] = [];
      await withEmulator({ seed }, async (emulator, client) => {
        emulator.faults.set({ throttleProbability: 0.3 });
        result = await outcomes(client, 40);
      });
      return result;
    };
    const first = await schedule(42);
    expect(first).toContain("ThrottlingException");
    expect(first).toContain("ok");
    expect(await schedule(42)).toEqual(first);
    expect(await schedule(43)).not.toEqual(first);
  });

  it("restarts the schedule on reseed", async () => {
    await withEmulator({ seed: 1 }, async (emulator, client) => {
      emulator.faults.set({ throttleProbability: 0.5 });
      emulator.faults.reseed(99);
      const first = await outcomes(client, 20);
      emulator.faults.reseed(99);
      expect(await outcomes(client, 20)).toEqual(first);
    });
  });

  it("adds latency before calls", async () => {
    await withEmulator({}, async (emulator, client) => {
      emulator.faults.set({ latency: 40 });
      const started = performance.now();
      await client.send(new ListInstancesCommand({}));
      expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    });
  });

  it("rejects invalid settings", async () => {
    await withEmulator({}, async (emulator) => {
      expect(() => emulator.faults.set({ throttleProbability: 2 })).toThrow(RangeError);
      expect(() => emulator.faults.failNext({ operation: "X", code: "Y", count: 0 })).toThrow(RangeError);
    });
  });
});

describe("maxCallsInAnyWindow", () => {
  const record = (at: number, service: CallRecord["service"] = "sso-admin"): CallRecord => ({
    at,
    service,
    operation: "ListInstances",
    outcome: "ok",
    status: 200,
    requestId: "r",
    input: {},
    quotaExceeded: false,
  });

  it("counts calls in half-open windows and ignores S3 by default", () => {
    const records = [record(0), record(500), record(999), record(1000), record(1001, "s3"), record(1998)];
    expect(maxCallsInAnyWindow(records)).toBe(3);
    expect(maxCallsInAnyWindow(records, 1000, () => true)).toBe(4);
    expect(maxCallsInAnyWindow([], 1000)).toBe(0);
  });
});
