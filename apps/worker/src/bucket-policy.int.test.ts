// The story that motivates Keyturn, end to end over the real adapters: the real S3 and SSO SDK
// clients talk HTTP to the AWS emulator (which evaluates the bucket policy on every call), the
// use cases run on a real PostgreSQL, and the bucket policy is the one the generator writes.
import { randomUUID } from "node:crypto";
import {
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { createBucketPolicyStore, createIdentityCenter } from "@keyturn/aws";
import { bucketPolicyEngine } from "@keyturn/bucket-policy";
import {
  createBucketPolicyUnitOfWork,
  createPrismaClient,
  createUnitOfWork,
  type PrismaClient,
} from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator, testFlowRules } from "@keyturn/testkit";
import {
  ADMIN_KEY,
  ADMIN_ROLE_ARN,
  allowAll,
  caught,
  portalClient,
  s3Client,
  sessionS3Client,
  standardSeed,
} from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  applyBucketPolicy,
  type BucketPolicyEngine,
  bucketAccessReport,
  checkBucketPolicyDrift,
  cutOffSessions,
  expireSessionCutoffs,
  type Principal,
  previewBucketPolicy,
  putFlow,
  putProtectedBucket,
  type ReconcileDeps,
  revokeRequest,
  type SessionCutoffDeps,
} from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileUntilSettled } from "./test-support.js";
import { approveRequest } from "./testing/access-world.js";

const ACCOUNT = "111122223333";
const BUCKET = "story-data";
const KEYTURN_KEY = "AKIAKEYTURNS3EXAMPLE";
const KEYTURN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const STRANGER_KEY = "AKIASTRANGEREXAMPLE1";
const STRANGER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/DataScience`;
const HOUR = 3600_000;
const person = (email: string): Principal => ({ email, audit: { type: "identity", id: email } });
const admin = { type: "token", id: "test-admin", label: "test" } as const;

// The engine as the composition roots pass it: the compiler checks here that it fits the port.
const engine: BucketPolicyEngine = bucketPolicyEngine;

const flowRules = testFlowRules();

const spec = {
  accountId: ACCOUNT,
  capabilities: {
    // Keyturn's own role must stay able to read and put the policy it manages.
    "administer-resource": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
    "read-config": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
    "read-data": [{ permissionSet: "S3Access" }],
    "write-data": [{ permissionSet: "S3Access" }],
    "delete-data": [{ permissionSet: "S3Access" }],
  },
};

const database = useTestDatabase();
let offsetMs = 0;
// Real time plus an offset: the emulator's assignments complete in real time, and a test can
// still jump an hour ahead.
const clock = { now: () => new Date(Date.now() + offsetMs) };
const ids = { uuid: randomUUID };
let db: PrismaClient;
let emulator: AwsEmulator;
let reconcile: ReconcileDeps;
let buckets: SessionCutoffDeps;
let adminS3: S3Client;
let strangerS3: S3Client;
const clients: S3Client[] = [];

beforeAll(async () => {
  db = createPrismaClient({ databaseUrl: database.url, maxConnections: 4 });
  emulator = await startAwsEmulator({ seed: 11, assignmentDelayMs: 20, now: () => clock.now().getTime() });
  const seed = standardSeed();
  emulator.seed({
    ...seed,
    users: [
      ...(seed.users ?? []),
      { userName: "dave", emails: ["dave@example.com"] },
      { userName: "erin", emails: ["erin@example.com"] },
    ],
    permissionSets: [
      ...(seed.permissionSets ?? []),
      // Shares S3Access's prefix; its holders must not reach the data, even with AdministratorAccess.
      { name: "S3Access_Admin", sessionDuration: "PT1H", policies: [allowAll] },
    ],
    callers: [
      ...(seed.callers ?? []),
      {
        accessKeyId: KEYTURN_KEY,
        roleArn: KEYTURN_ROLE_ARN,
        accountId: ACCOUNT,
        policies: [
          {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetEncryptionConfiguration"],
                Resource: `arn:aws:s3:::${BUCKET}`,
              },
            ],
          },
        ],
      },
      { accessKeyId: STRANGER_KEY, roleArn: STRANGER_ROLE_ARN, accountId: ACCOUNT, policies: [allowAll] },
    ],
    buckets: [
      {
        name: BUCKET,
        accountId: ACCOUNT,
        encryption: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/story" },
        objects: { "reports/q1.csv": "revenue,42", "reports/q2.csv": "revenue,43" },
      },
    ],
  });
  const identityCenter = createIdentityCenter({
    region: emulator.region,
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "x" },
    pollIntervalMs: 20,
  });
  reconcile = { uow: createUnitOfWork(db, { clock, ids }), clock, ids, identityCenter, owner: "test-worker" };
  buckets = {
    uow: createBucketPolicyUnitOfWork(db, { clock, ids }),
    clock,
    engine,
    store: createBucketPolicyStore({
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: KEYTURN_KEY, secretAccessKey: "x" },
      retry: { maxAttempts: 1 },
    }),
    identityCenter,
  };
  adminS3 = s3Client(emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" });
  strangerS3 = s3Client(emulator, { accessKeyId: STRANGER_KEY, secretAccessKey: "x" });
  expect((await putFlow(reconcile, { name: "s3", rules: flowRules, by: admin })).ok).toBe(true);
});

afterAll(async () => {
  for (const client of [...clients, adminS3, strangerS3]) {
    client.destroy();
  }
  await emulator.close();
  await db.$disconnect();
});

async function grant(email: string): Promise<{ requestId: string; assignmentId: string }> {
  const requestId = await approveRequest(reconcile, { flowName: "s3", email, durationSeconds: 3600 });
  const lease = await db.lease.findUniqueOrThrow({ where: { requestId } });
  await reconcileOnce(lease.assignmentId);
  return { requestId, assignmentId: lease.assignmentId };
}

/** One reconcile of the assignment, as the worker's job runs it, followed by the cut-off check. */
async function reconcileOnce(assignmentId: string) {
  expect((await reconcileUntilSettled(reconcile, assignmentId)).outcome).toBe("converged");
  const cutoff = await cutOffSessions(buckets, { assignmentId });
  if (!cutoff.ok) {
    throw new Error(cutoff.error.message);
  }
  return cutoff.value;
}

/** Signs in as the user and asks the portal for role credentials, as `aws sso login` would. */
async function sessionAs(userName: string, roleName = "S3Access"): Promise<S3Client> {
  const { accessToken } = emulator.signIn(userName);
  const portal = portalClient(emulator);
  try {
    const output = await portal.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName }),
    );
    const client = sessionS3Client(emulator, output.roleCredentials);
    clients.push(client);
    return client;
  } finally {
    portal.destroy();
  }
}

const read = async (client: S3Client, key = "reports/q1.csv") =>
  (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString();
const write = (client: S3Client, key: string, sse?: "aws:kms" | "AES256") =>
  client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: "new",
      ...(sse === undefined ? {} : { ServerSideEncryption: sse }),
    }),
  );
const livePolicy = async () =>
  JSON.parse((await adminS3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy ?? "null") as {
    Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, string[]>> }>;
  };
const deniedBy = async (promise: Promise<unknown>, sid: string) => {
  const error = await caught(promise);
  expect(error.name).toBe("AccessDenied");
  expect(error.message).toContain(`Sid "${sid}"`);
};
const s3AccessRole = () =>
  emulator.roles().find((role) => role.permissionSetName === "S3Access" && role.accountId === ACCOUNT);
const audits = (action: string) => db.auditEvent.findMany({ where: { action }, orderBy: { seq: "asc" } });

let alice: { requestId: string; assignmentId: string };
let aliceSession: S3Client;
let firstRoleArn: string | undefined;

describe("a bucket under Keyturn's k9-style policy", () => {
  it("is protected and the generated policy applied through PutBucketPolicy", async () => {
    const stored = await putProtectedBucket(buckets, { name: BUCKET, spec, by: admin });
    expect(stored.ok && stored.value.created).toBe(true);
    const applied = await applyBucketPolicy(buckets, { name: BUCKET, by: admin, reason: "test" });
    expect(applied.ok && applied.value.put).toBe(true);
    const generated = engine.generate({ ...spec, bucket: BUCKET });
    expect(generated.ok && (await livePolicy())).toEqual(generated.ok && generated.value.policy);
    const [event] = await audits("bucket_policy.applied");
    expect(event?.data).toMatchObject({
      bucket: BUCKET,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      put: true,
    });
  });

  it("keeps an administrator with AdministratorAccess from reading or deleting the data, not from the policy", async () => {
    await deniedBy(read(adminS3), "DenyReadDataToOthers");
    await deniedBy(
      adminS3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "reports/q1.csv" })),
      "DenyDeleteDataToOthers",
    );
    await deniedBy(write(adminS3, "admin.txt", "aws:kms"), "DenyWriteDataToOthers");
    expect((await livePolicy()).Statement.length).toBeGreaterThan(0);
  });

  it("refuses a user without a lease (no credentials at all) and a role nobody listed", async () => {
    const error = await caught(sessionAs("alice"));
    expect(error.name).toBe("ForbiddenException");
    await deniedBy(read(strangerS3), "DenyEveryoneElse");
  });

  it("lets a user granted S3Access through Keyturn read, and write only SSE-KMS objects", async () => {
    alice = await grant("alice@example.com");
    firstRoleArn = s3AccessRole()?.arn;
    expect(firstRoleArn).toMatch(/AWSReservedSSO_S3Access_[0-9a-f]{16}$/);
    aliceSession = await sessionAs("alice");
    expect(await read(aliceSession)).toBe("revenue,42");
    await write(aliceSession, "uploads/ok.csv", "aws:kms");
    // No header: the bucket's default SSE-KMS applies (the apply checked it is SSE-KMS).
    expect((await write(aliceSession, "uploads/plain.csv")).ServerSideEncryption).toBe("aws:kms");
    await deniedBy(
      write(aliceSession, "uploads/s3-managed.csv", "AES256"),
      "DenyStorageWithoutKMSEncryption",
    );
    for (const key of ["uploads/ok.csv", "uploads/plain.csv"]) {
      await aliceSession.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    }
  });

  it("refuses plain HTTP", async () => {
    emulator.faults.set({ insecureTransport: true });
    try {
      await deniedBy(read(aliceSession), "DenyInsecureCommunications");
    } finally {
      emulator.faults.set({ insecureTransport: false });
    }
  });

  it("refuses the user's still-valid session within one reconcile of the lease ending", async () => {
    const revoked = await revokeRequest(reconcile, {
      requestId: alice.requestId,
      by: person("ann@example.com"),
      asAdmin: false,
    });
    expect(revoked.ok).toBe(true);
    const removal = await reconcileUntilSettled(reconcile, alice.assignmentId);
    expect(removal.actions).toEqual(["deleted"]);
    // Identity Center does not end sessions: without the cut-off, the data stays readable.
    expect(await read(aliceSession)).toBe("revenue,42");
    const started = Date.now();
    const cutoff = await cutOffSessions(buckets, { assignmentId: alice.assignmentId });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(cutoff.ok && cutoff.value).toMatchObject({
      outcome: "armed",
      buckets: [{ bucket: BUCKET, put: true }],
    });
    await deniedBy(read(aliceSession), "DenyEndedSessions");
    await deniedBy(write(aliceSession, "late.csv", "aws:kms"), "DenyEndedSessions");

    const row = await db.sessionCutoff.findFirstOrThrow();
    const removedAt = (
      await db.reconcileAttempt.findFirstOrThrow({
        where: { assignmentId: alice.assignmentId, operation: "delete" },
      })
    ).finishedAt;
    expect(row.until.getTime()).toBe(removedAt.getTime() + HOUR);
    expect(await audits("session_cutoff.added")).toHaveLength(1);

    // Idempotent: running it again changes nothing and records nothing.
    const again = await cutOffSessions(buckets, { assignmentId: alice.assignmentId });
    expect(again.ok && again.value).toMatchObject({
      outcome: "already_armed",
      buckets: [{ bucket: BUCKET, put: false }],
    });
    expect(await audits("session_cutoff.added")).toHaveLength(1);
    expect(await audits("bucket_policy.applied")).toHaveLength(2);
  });

  it("still grants the set's role after Identity Center recreated it with a new suffix", async () => {
    expect(s3AccessRole()).toBeUndefined();
    await grant("bob@example.com");
    const secondRoleArn = s3AccessRole()?.arn;
    expect(secondRoleArn).toMatch(/AWSReservedSSO_S3Access_[0-9a-f]{16}$/);
    expect(secondRoleArn).not.toBe(firstRoleArn);
    const bob = await sessionAs("bob");
    expect(await read(bob)).toBe("revenue,42");
    // The cut-off is alice's alone.
    await deniedBy(read(aliceSession), "DenyEndedSessions");
  });

  it("denies a permission set whose name shares the prefix, even with AdministratorAccess", async () => {
    emulator.seed({
      assignments: [
        { accountId: ACCOUNT, permissionSet: "S3Access_Admin", principal: { userName: "carol" } },
      ],
    });
    const carol = await sessionAs("carol", "S3Access_Admin");
    await deniedBy(read(carol), "DenyEveryoneElse");
    await deniedBy(write(carol, "carol.csv", "aws:kms"), "DenyEveryoneElse");
    await deniedBy(
      carol.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "reports/q2.csv" })),
      "DenyEveryoneElse",
    );
  });

  it("lifts a cut-off as soon as the user holds the set again", async () => {
    const first = await grant("erin@example.com");
    const erin = await sessionAs("erin");
    await revokeRequest(reconcile, {
      requestId: first.requestId,
      by: person("ann@example.com"),
      asAdmin: false,
    });
    expect(await reconcileOnce(first.assignmentId)).toMatchObject({ outcome: "armed" });
    await deniedBy(read(erin), "DenyEndedSessions");
    // Approved again: the cut-off stays until the new assignment is in AWS, then goes.
    const second = await grant("erin@example.com");
    expect(second.assignmentId).toBe(first.assignmentId);
    expect(await read(erin)).toBe("revenue,42");
    const erinId = (await db.identity.findUniqueOrThrow({ where: { email: "erin@example.com" } }))
      .identityStoreUserId;
    const row = await db.sessionCutoff.findFirstOrThrow({ where: { identityStoreUserId: erinId ?? "" } });
    expect(row.removedAt).not.toBeNull();
    expect(await audits("session_cutoff.lifted")).toHaveLength(1);
    await deniedBy(read(aliceSession), "DenyEndedSessions");
  });

  it("removes the cut-off from the policy once the sessions it guarded have expired", async () => {
    offsetMs += HOUR + 60_000;
    const swept = await expireSessionCutoffs(buckets);
    expect(swept.expired.map((cutoff) => cutoff.identityStoreUserId)).toHaveLength(1);
    expect(swept.buckets).toEqual([{ bucket: BUCKET, put: true }]);
    expect((await livePolicy()).Statement.map((statement) => statement.Sid)).not.toContain(
      "DenyEndedSessions",
    );
    expect(await db.sessionCutoff.count({ where: { removedAt: null } })).toBe(0);
    expect(await audits("session_cutoff.expired")).toHaveLength(1);
    expect((await expireSessionCutoffs(buckets)).expired).toEqual([]);
  });
});

describe("drift: a statement added by hand", () => {
  const handAdded = (currentRole: string) => [
    {
      Sid: "HandAddedAuditorRead",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${BUCKET}/*`,
      Condition: { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/Auditor` } },
    },
    {
      Sid: "HandAddedPinnedRole",
      Effect: "Allow",
      Principal: { AWS: currentRole },
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${BUCKET}/*`,
    },
  ];

  it("is reported as drift, audited once, and listed as foreign in the diff", async () => {
    const dave = await grant("dave@example.com");
    expect(dave.assignmentId).toBeDefined();
    const currentRole = s3AccessRole()?.arn ?? "";
    const policy = await livePolicy();
    await adminS3.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: JSON.stringify({ ...policy, Statement: [...policy.Statement, ...handAdded(currentRole)] }),
      }),
    );
    const checked = await checkBucketPolicyDrift(buckets);
    expect(checked.buckets).toEqual([
      expect.objectContaining({
        bucket: BUCKET,
        status: "drift",
        newlyDetected: true,
        diff: expect.objectContaining({
          foreign: ["HandAddedAuditorRead", "HandAddedPinnedRole"],
          changed: [],
        }),
      }),
    ]);
    expect((await db.protectedBucket.findUniqueOrThrow({ where: { name: BUCKET } })).driftDetected).toBe(
      true,
    );
    const again = await checkBucketPolicyDrift(buckets, { name: BUCKET });
    expect(again.buckets[0]).toMatchObject({ status: "drift", newlyDetected: false });
    expect(await audits("bucket_policy.drift_detected")).toHaveLength(1);

    const preview = await previewBucketPolicy(buckets, { name: BUCKET });
    expect(preview.ok).toBe(true);
    if (preview.ok) {
      expect(preview.value.drift.detected).toBe(true);
      expect(preview.value.plan.inSync).toBe(true);
      expect(preview.value.plan.diff.foreign.map((entry) => entry.sid)).toEqual([
        "HandAddedAuditorRead",
        "HandAddedPinnedRole",
      ]);
    }
  });

  it("shows up in the effective-access report as an extra grant, beside the lease holders", async () => {
    const report = await bucketAccessReport(buckets, { name: BUCKET });
    expect(report.ok).toBe(true);
    if (!report.ok) {
      return;
    }
    const readData = report.value.capabilities.find((entry) => entry.capability === "read-data");
    const viaSet = readData?.grants.find((grant) => grant.principal.kind === "permission-set");
    expect(viaSet).toMatchObject({
      principal: { kind: "permission-set", accountId: ACCOUNT, name: "S3Access" },
      extra: false,
      // Bob's hour ended when the clock jumped past the cut-off; his lease is not active any more.
      holders: [
        expect.objectContaining({ email: "dave@example.com", source: "lease", until: expect.any(Date) }),
      ],
    });
    expect(readData?.grants).toContainEqual(
      expect.objectContaining({
        principal: { kind: "arn", arn: s3AccessRole()?.arn },
        extra: true,
        grantedBy: expect.arrayContaining(["HandAddedPinnedRole"]),
      }),
    );
    expect(readData?.shadowed).toContainEqual(
      expect.objectContaining({
        principal: { kind: "arn", arn: `arn:aws:iam::${ACCOUNT}:role/Auditor` },
        grantedBy: ["HandAddedAuditorRead"],
      }),
    );
    expect(readData?.openThroughIdentityPolicies).toEqual([]);
    const admins = report.value.capabilities.find((entry) => entry.capability === "administer-resource");
    expect(admins?.grants.filter((grant) => grant.principal.kind === "arn" && grant.allActions)).toEqual([
      expect.objectContaining({ principal: { kind: "arn", arn: ADMIN_ROLE_ARN }, extra: true }),
      expect.objectContaining({ principal: { kind: "arn", arn: KEYTURN_ROLE_ARN }, extra: true }),
    ]);
  });

  it("is resolved when someone puts the applied policy back", async () => {
    const withForeign = await livePolicy();
    const applied = engine.generate({ ...spec, bucket: BUCKET });
    expect(applied.ok).toBe(true);
    await adminS3.send(
      new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: applied.ok ? applied.value.json : "" }),
    );
    const resolved = await checkBucketPolicyDrift(buckets);
    expect(resolved.buckets[0]).toMatchObject({ status: "in_sync", resolved: true, newlyDetected: false });
    expect(await audits("bucket_policy.drift_resolved")).toHaveLength(1);
    // The same hand edit again is a new drift, audited again.
    await adminS3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(withForeign) }));
    expect((await checkBucketPolicyDrift(buckets)).buckets[0]).toMatchObject({
      status: "drift",
      newlyDetected: true,
    });
    expect(await audits("bucket_policy.drift_detected")).toHaveLength(2);
  });

  it("is kept by a re-apply, which takes the policy as the new baseline, and dropped only when asked", async () => {
    const kept = await applyBucketPolicy(buckets, { name: BUCKET, by: admin, reason: "test" });
    expect(kept.ok && kept.value).toMatchObject({ put: false, recorded: true });
    expect((await livePolicy()).Statement.map((statement) => statement.Sid)).toEqual(
      expect.arrayContaining(["HandAddedAuditorRead", "HandAddedPinnedRole"]),
    );
    expect((await db.protectedBucket.findUniqueOrThrow({ where: { name: BUCKET } })).driftDetected).toBe(
      false,
    );
    expect((await checkBucketPolicyDrift(buckets)).buckets[0]).toMatchObject({
      status: "in_sync",
      newlyDetected: false,
    });
    expect(await audits("bucket_policy.drift_detected")).toHaveLength(2);

    const dropped = await applyBucketPolicy(buckets, {
      name: BUCKET,
      by: admin,
      reason: "test",
      dropForeign: true,
    });
    expect(dropped.ok && dropped.value).toMatchObject({
      put: true,
      summary: { droppedForeign: ["HandAddedAuditorRead", "HandAddedPinnedRole"] },
    });
    const sids = (await livePolicy()).Statement.map((statement) => statement.Sid);
    expect(sids).not.toContain("HandAddedAuditorRead");
    expect(sids).not.toContain("HandAddedPinnedRole");
    expect((await checkBucketPolicyDrift(buckets)).buckets[0]).toMatchObject({
      status: "in_sync",
      newlyDetected: false,
    });
  });
});
