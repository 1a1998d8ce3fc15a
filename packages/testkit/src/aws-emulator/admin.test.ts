import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { ListInstancesCommand } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoSeed } from "./demo-seed.js";
import { startAwsEmulator } from "./server.js";
import { caught, portalClient, s3Client, ssoAdminClient } from "./test-helpers.js";
import type { AwsEmulator, CallRecord, EmulatorSnapshot, PortalSignIn, SeedResult } from "./types.js";

describe("admin surface over HTTP", () => {
  let emulator: AwsEmulator;

  async function admin<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }> {
    const response = await fetch(`${emulator.endpoint}/_emulator/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 21 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("starts empty and seeds over HTTP", async () => {
    const empty = await admin<EmulatorSnapshot>("GET", "state");
    expect(empty.json.instance).toBeNull();

    const seeded = await admin<SeedResult>("POST", "seed", demoSeed());
    expect(seeded.status).toBe(200);
    expect(seeded.json.identityStoreId).toBe("d-0123456789");
    expect(Object.keys(seeded.json.users)).toEqual(["alice", "bob", "carol"]);

    const client = ssoAdminClient(emulator);
    try {
      const instances = await client.send(new ListInstancesCommand({}));
      expect(instances.Instances?.[0]?.InstanceArn).toBe(seeded.json.instanceArn);
    } finally {
      client.destroy();
    }
    const state = await admin<EmulatorSnapshot>("GET", "state");
    expect(state.json.buckets.map((bucket) => bucket.name)).toEqual(["keyturn-demo-data"]);
    expect(state.json.permissionSets.map((set) => set.name)).toEqual(["S3Access", "AdministratorAccess"]);
  });

  it("registers callers, signs users in and injects faults", async () => {
    const registered = await admin("POST", "callers", {
      accessKeyId: "AKIAHTTPCALLER000001",
      roleArn: "arn:aws:iam::111122223333:role/Ops",
      accountId: "111122223333",
      policies: [
        {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
        },
      ],
    });
    expect(registered.status).toBe(200);
    const s3 = s3Client(emulator, { accessKeyId: "AKIAHTTPCALLER000001", secretAccessKey: "x" });
    const portal = portalClient(emulator);
    try {
      const buckets = await s3.send(new ListBucketsCommand({}));
      expect(buckets.Buckets?.map((bucket) => bucket.Name)).toEqual(["keyturn-demo-data"]);

      const signedIn = await admin<PortalSignIn>("POST", "sign-in", { user: "alice@example.com" });
      expect(signedIn.status).toBe(400);
      const alice = await admin<PortalSignIn>("POST", "sign-in", { user: "alice" });
      const forbidden = await caught(
        portal.send(
          new GetRoleCredentialsCommand({
            accessToken: alice.json.accessToken,
            accountId: "111122223333",
            roleName: "S3Access",
          }),
        ),
      );
      expect(forbidden.name).toBe("ForbiddenException");

      const faults = await admin<{ insecureTransport: boolean }>("POST", "faults", {
        set: { insecureTransport: true },
        failNext: { operation: "ListBuckets", code: "SlowDown" },
      });
      expect(faults.json.insecureTransport).toBe(true);
      const slowDown = await caught(s3.send(new ListBucketsCommand({})));
      expect(slowDown.name).toBe("SlowDown");
      expect(slowDown.$metadata?.httpStatusCode).toBe(503);
      await admin("POST", "faults", { reset: true });
      expect(emulator.faults.settings().insecureTransport).toBe(false);
    } finally {
      s3.destroy();
      portal.destroy();
    }

    const calls = await admin<CallRecord[]>("GET", "calls");
    expect(calls.json.map((call) => `${call.service}:${call.operation}:${call.outcome}`)).toContain(
      "s3:ListBuckets:SlowDown",
    );
    expect(calls.json.find((call) => call.operation === "GetRoleCredentials")?.input).toEqual({
      roleName: "S3Access",
      accountId: "111122223333",
    });
  });

  it("reports bad requests and unknown routes", async () => {
    const duplicate = await admin<{ message: string }>("POST", "seed", { users: [{ userName: "alice" }] });
    expect(duplicate.status).toBe(400);
    expect(duplicate.json.message).toContain("already exists");
    expect((await admin("POST", "faults", { set: { conflictProbability: -1 } })).status).toBe(400);
    expect((await admin("POST", "seed", "{nope")).status).toBe(400);
    expect((await admin("GET", "nothing-here")).status).toBe(404);
  });
});
