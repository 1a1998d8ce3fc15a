import { afterEach, describe, expect, it } from "vitest";
import type { AwsCallObservation } from "./retry.js";
import { createBucketPolicyStore } from "./s3-client.js";
import { identityCenterService } from "./sdk-config.js";
import { ACCOUNT, ADMIN_KEY, appError, startWorld, type World } from "./test-helpers.js";

// The observer behind the apps' keyturn_aws_calls_total: one observation per attempt, retried ones
// included, against the real SDK clients and the emulator.

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

function recorder() {
  const seen: AwsCallObservation[] = [];
  return { seen, onCall: (observation: AwsCallObservation) => seen.push(observation) };
}

const label = (o: { service: string; operation: string; outcome: string }) =>
  `${o.service} ${o.operation} ${o.outcome}`;

describe("observing AWS calls", () => {
  it("sees every attempt the emulator saw, with AWS's error name for the retried ones", async () => {
    world = await startWorld();
    const { emu, adapter } = world;
    const { seen, onCall } = recorder();
    const ic = adapter({ onCall });
    const user = await ic.findUserByEmail("alice@example.com");
    if (!user.ok) {
      throw new Error(user.error.message);
    }
    emu.faults.failNext({ operation: "CreateAccountAssignment", code: "ThrottlingException", count: 2 });

    const outcome = await ic.createAssignment({
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: user.value.userId,
    });

    expect(outcome.status).toBe("SUCCEEDED");
    expect(seen.map(label)).toEqual(emu.callLog().map(label));
    expect(seen.map(label)).toEqual(
      expect.arrayContaining([
        "identitystore GetUserId ok",
        "identitystore DescribeUser ok",
        "sso-admin CreateAccountAssignment ThrottlingException",
        "sso-admin CreateAccountAssignment ok",
      ]),
    );
    expect(seen.filter((o) => o.outcome === "ThrottlingException")).toHaveLength(2);
    for (const observation of seen) {
      expect(observation.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it("names an answer the adapter turns into a value by AWS's error name (S3's NoSuchBucketPolicy)", async () => {
    world = await startWorld({
      seed: {
        accounts: [ACCOUNT],
        callers: [
          {
            accessKeyId: ADMIN_KEY,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
            accountId: ACCOUNT,
            policies: [
              { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
            ],
          },
        ],
        buckets: [{ name: "data-bucket", accountId: ACCOUNT }],
      },
    });
    const { seen, onCall } = recorder();
    const store = createBucketPolicyStore({
      region: world.emu.region,
      endpoint: world.emu.endpoint,
      credentials: { accessKeyId: ADMIN_KEY, secretAccessKey: "not-checked" },
      retry: { maxAttempts: 1 },
      onCall,
    });
    try {
      expect(await store.getPolicy("data-bucket")).toBeNull();
      expect((await appError(store.getPolicy("no-such-bucket"))).code).toBe("AWS_NO_SUCH_BUCKET");
    } finally {
      store.close();
    }
    expect(seen.map(label)).toEqual([
      "s3 GetBucketPolicy NoSuchBucketPolicy",
      "s3 GetBucketPolicy NoSuchBucket",
    ]);
  });

  it("names a failure AWS never answered by its network code, once per attempt", async () => {
    // An emulator that is gone again: its port refuses connections.
    const gone = await startWorld();
    await gone.close();
    const { seen, onCall } = recorder();
    const ic = gone.adapter({ onCall, retry: { maxAttempts: 2, baseMs: 1, capMs: 1 } });
    try {
      expect((await appError(ic.permissionSet("S3Access"))).code).toBe("AWS_UNAVAILABLE");
    } finally {
      ic.close();
    }
    // The SDK puts $metadata on such errors too, but with no HTTP status: not an AWS answer.
    expect(seen.map(label)).toEqual([
      "sso-admin ListInstances ECONNREFUSED",
      "sso-admin ListInstances ECONNREFUSED",
    ]);
  });

  it("never lets a throwing observer fail the call", async () => {
    world = await startWorld();
    const ic = world.adapter({
      onCall: () => {
        throw new Error("metrics are broken");
      },
    });
    expect(await ic.permissionSet("S3Access")).toMatchObject({ sessionDurationSeconds: 3600 });
  });

  it("labels Identity Store operations identitystore and the rest sso-admin", () => {
    expect(identityCenterService("GetUserId")).toBe("identitystore");
    expect(identityCenterService("DescribeUser")).toBe("identitystore");
    expect(identityCenterService("ListAccountAssignmentsForPrincipal")).toBe("sso-admin");
    expect(identityCenterService("CreateAccountAssignment")).toBe("sso-admin");
  });
});
