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
import { generateBucketPolicy } from "@keyturn/bucket-policy";
import {
  type AssignmentClaimsHandle,
  createAssignmentClaims,
  createBucketPolicyUnitOfWork,
  createPrismaClient,
  createUnitOfWork,
  type PrismaClient,
} from "@keyturn/db";
import { createLogger } from "@keyturn/observability";
import { createProducer, createRedisConnection } from "@keyturn/queue";
import { type AwsEmulator, startAwsEmulator, testFlowRules } from "@keyturn/testkit";
import {
  ADMIN_KEY,
  ADMIN_ROLE_ARN,
  allowAll,
  caught,
  keyturnCaller,
  portalClient,
  s3Client,
  sessionS3Client,
  standardSeed,
} from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  ARM_LOOKBACK_MS,
  applyBucketPolicy,
  type BucketPolicyS3Deps,
  bucketAccessReport,
  checkBucketPolicyDrift,
  PROVISIONAL_STEP_MS,
  type Principal,
  prepareGrant,
  previewBucketPolicy,
  putFlow,
  putProtectedBucket,
  type ReconcileDeps,
  refreshSessionCutoffs,
  revokeRequest,
  type SessionCutoffDeps,
  SWEEP_LOOKBACK_MS,
  SYSTEM,
} from "@keyturn/usecases";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketApplyHandler } from "./jobs/bucket-apply.js";
import { STALE_APPLY_MS, sweepLeasesHandler } from "./jobs/sweep-leases.js";
import { createWorkerMetrics } from "./metrics.js";
import { reconcileUntilSettled } from "./test-support.js";
import { approveRequest } from "./testing/access-world.js";
import { clearPrefix } from "./worker-harness.js";

const ACCOUNT = "111122223333";
const BUCKET = "story-data";
const KEYTURN_KEY = "AKIAKEYTURNS3EXAMPLE";
const KEYTURN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const STRANGER_KEY = "AKIASTRANGEREXAMPLE1";
const STRANGER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/DataScience`;
const HOUR = 3600_000;
const person = (email: string): Principal => ({ email, audit: { type: "identity", id: email } });
const admin = { type: "token", id: "test-admin", label: "test" } as const;

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
let claims: AssignmentClaimsHandle;
let buckets: SessionCutoffDeps & BucketPolicyS3Deps;
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
      { userName: "frank", emails: ["frank@example.com"] },
    ],
    permissionSets: [
      ...(seed.permissionSets ?? []),
      // Shares S3Access's prefix; its holders must not reach the data, even with AdministratorAccess.
      { name: "S3Access_Admin", sessionDuration: "PT1H", policies: [allowAll] },
    ],
    callers: [
      ...(seed.callers ?? []),
      keyturnCaller(KEYTURN_KEY, KEYTURN_ROLE_ARN, [BUCKET]),
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
  claims = createAssignmentClaims({ databaseUrl: database.url });
  reconcile = { uow: createUnitOfWork(db, { clock, ids }), clock, ids, identityCenter, claims };
  buckets = {
    uow: createBucketPolicyUnitOfWork(db, { clock, ids }),
    clock,
    store: createBucketPolicyStore({
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: KEYTURN_KEY, secretAccessKey: "x" },
      retry: { maxAttempts: 1 },
    }),
    sessionDurationSeconds: async (name) => (await identityCenter.permissionSet(name)).sessionDurationSeconds,
  };
  adminS3 = s3Client(emulator, { accessKeyId: ADMIN_KEY, secretAccessKey: "x" });
  strangerS3 = s3Client(emulator, { accessKeyId: STRANGER_KEY, secretAccessKey: "x" });
  expect((await putFlow(reconcile, { name: "s3", rules: flowRules, by: admin })).ok).toBe(true);
});

afterAll(async () => {
  for (const client of [...clients, adminS3, strangerS3]) {
    client.destroy();
  }
  await claims.close();
  await emulator.close();
  await db.$disconnect();
});

async function grant(email: string): Promise<{ requestId: string; assignmentId: string }> {
  const requestId = await approveRequest(reconcile, { flowName: "s3", email, durationSeconds: 3600 });
  const lease = await db.lease.findUniqueOrThrow({ where: { requestId } });
  await reconcileOnce(lease.assignmentId);
  return { requestId, assignmentId: lease.assignmentId };
}

/**
 * One reconcile of the assignment, as the worker's job runs it (the new grant's boundary in the
 * policy first, the clock moved past it instead of sleeping), then the cut-offs brought in line.
 */
async function reconcileOnce(assignmentId: string) {
  const prepared = await prepareGrant(buckets, { assignmentId });
  for (const name of prepared.buckets) {
    expect((await applyBucketPolicy(buckets, { name, by: SYSTEM, reason: "session_cutoffs" })).ok).toBe(true);
  }
  const wait = (prepared.boundary?.getTime() ?? 0) - clock.now().getTime();
  if (wait > 0) {
    offsetMs += wait;
  }
  expect((await reconcileUntilSettled(reconcile, assignmentId)).outcome).toBe("converged");
  return landCutoffs([assignmentId]);
}

/** What the worker's cut-off jobs do: arm/update the cut-offs, then apply the bucket. */
async function landCutoffs(assignmentIds?: string[], sweep = false) {
  const refreshed = await refreshSessionCutoffs(buckets, {
    since: new Date(clock.now().getTime() - (sweep ? SWEEP_LOOKBACK_MS : ARM_LOOKBACK_MS)),
    ...(assignmentIds === undefined ? {} : { assignmentIds }),
    sweep,
  });
  const applied = await applyBucketPolicy(buckets, { name: BUCKET, by: SYSTEM, reason: "session_cutoffs" });
  if (!applied.ok) {
    throw new Error(applied.error.message);
  }
  return { refreshed, applied: applied.value };
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
    const generated = generateBucketPolicy({ ...spec, bucket: BUCKET });
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

  it("refuses the user's still-valid session at the lease's end, before Identity Center removes anything", async () => {
    const revoked = await revokeRequest(reconcile, {
      requestId: alice.requestId,
      by: person("ann@example.com"),
      asAdmin: false,
    });
    expect(revoked.ok).toBe(true);
    // Identity Center does not end sessions: without the cut-off, the data stays readable.
    expect(await read(aliceSession)).toBe("revenue,42");
    const landed = await landCutoffs();
    expect(landed.refreshed.changes).toMatchObject([{ change: "added", permissionSetName: "S3Access" }]);
    expect(landed.applied.put).toBe(true);
    await deniedBy(read(aliceSession), "DenyEndedSessions1");
    await deniedBy(write(aliceSession, "late.csv", "aws:kms"), "DenyEndedSessions1");
    expect(await db.reconcileAttempt.count({ where: { assignmentId: alice.assignmentId } })).toBe(1);

    const removal = await reconcileUntilSettled(reconcile, alice.assignmentId);
    expect(removal.actions).toEqual(["deleted"]);
    // The removal confirmed within the provisional step: the cut-off keeps its end (a step plus a
    // session after the lease's end) and knows no session came after the removal; nothing in the
    // per-user policy changes, so nothing is put.
    const after = await landCutoffs([alice.assignmentId]);
    expect(after.applied.put).toBe(false);
    const row = await db.sessionCutoff.findFirstOrThrow();
    const removedAt = (
      await db.reconcileAttempt.findFirstOrThrow({
        where: { assignmentId: alice.assignmentId, operation: "delete" },
      })
    ).finishedAt;
    expect(row.closedAt?.getTime()).toBe(Math.ceil(removedAt.getTime() / 1000) * 1000);
    expect(row.until.getTime()).toBe((row.endedAt?.getTime() ?? 0) + PROVISIONAL_STEP_MS + HOUR);
    expect(await audits("session_cutoff.added")).toHaveLength(1);

    // Idempotent: running it again changes nothing and records nothing.
    const again = await landCutoffs([alice.assignmentId]);
    expect(again.refreshed.changes).toEqual([]);
    expect(again.applied.put).toBe(false);
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
    await deniedBy(read(aliceSession), "DenyEndedSessions1");
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

  it("lets a new grant's sessions in once provisioned, while the old ones stay refused", async () => {
    const first = await grant("erin@example.com");
    const erin = await sessionAs("erin");
    await revokeRequest(reconcile, {
      requestId: first.requestId,
      by: person("ann@example.com"),
      asAdmin: false,
    });
    expect((await reconcileOnce(first.assignmentId)).refreshed.changes).toMatchObject([{ change: "added" }]);
    await deniedBy(read(erin), "DenyEndedSessions1");
    offsetMs += 2000;
    const second = await grant("erin@example.com");
    expect(second.assignmentId).toBe(first.assignmentId);
    const fresh = await sessionAs("erin");
    expect(await read(fresh)).toBe("revenue,42");
    await deniedBy(read(erin), "DenyEndedSessions2");
    const erinId = (await db.identity.findUniqueOrThrow({ where: { email: "erin@example.com" } }))
      .identityStoreUserId;
    const row = await db.sessionCutoff.findFirstOrThrow({ where: { identityStoreUserId: erinId ?? "" } });
    expect(row.removedAt).toBeNull();
    expect(row.issuedBefore).not.toBeNull();
    expect(await audits("session_cutoff.updated")).not.toEqual([]);
    await deniedBy(read(aliceSession), "DenyEndedSessions1");
  });

  it("removes the cut-offs from the policy once the sessions they guarded have expired", async () => {
    offsetMs += HOUR + PROVISIONAL_STEP_MS + 60_000;
    const swept = await landCutoffs(undefined, true);
    // Alice's cut-off expires. Erin's second grant has ended meanwhile (an hour on), so hers is
    // armed afresh for it, as are those of the others whose leases ended.
    const id = async (email: string) =>
      (await db.identity.findUniqueOrThrow({ where: { email } })).identityStoreUserId;
    const byKind = (kind: string) =>
      swept.refreshed.changes
        .filter((change) => change.change === kind)
        .map((change) => change.identityStoreUserId);
    expect(byKind("expired")).toEqual([await id("alice@example.com")]);
    expect(byKind("updated")).toEqual([await id("erin@example.com")]);
    const erinRow = await db.sessionCutoff.findFirstOrThrow({
      where: { identityStoreUserId: (await id("erin@example.com")) ?? "" },
    });
    expect(erinRow.issuedBefore).toBeNull();
    expect(await audits("session_cutoff.expired")).toHaveLength(1);
    expect((await landCutoffs(undefined, true)).refreshed.changes).toEqual([]);
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
    // What Keyturn applied: the spec and the cut-offs in force.
    const preview = await previewBucketPolicy(buckets, { name: BUCKET });
    const applied = preview.ok
      ? { ok: true as const, value: preview.value.generated }
      : { ok: false as const };
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

describe("a cut-off whose apply job was lost (Redis flushed, a worker killed)", () => {
  it("is applied by the next lease sweep, which finds the bucket still waiting for it", async () => {
    const prefix = `keyturn-test-lost-${randomUUID().slice(0, 8)}`;
    const connection = createRedisConnection("redis://127.0.0.1:6379", "producer");
    const producer = createProducer({ connection, prefix });
    const queue = new Queue("keyturn", { connection, prefix });
    try {
      const frank = await grant("frank@example.com");
      const session = await sessionAs("frank");
      await revokeRequest(reconcile, {
        requestId: frank.requestId,
        by: person("ann@example.com"),
        asAdmin: false,
      });
      // Armed, with its bucket.apply message in the outbox: but nothing relays it here, as if the
      // job had been lost.
      const armed = await refreshSessionCutoffs(buckets, {
        since: new Date(clock.now().getTime() - ARM_LOOKBACK_MS),
      });
      expect(armed.buckets).toEqual([BUCKET]);
      expect(await read(session)).toBe("revenue,42");

      const sweep = sweepLeasesHandler({
        db,
        producer,
        now: () => clock.now(),
        bucketPolicies: buckets,
        onCallCheckGraceMs: 60_000,
      });
      await sweep();
      expect(await queue.getJobs(["prioritized", "waiting"])).not.toContainEqual(
        expect.objectContaining({ name: "bucket.apply" }),
      );
      offsetMs += STALE_APPLY_MS + 1000;
      await sweep();
      const [job] = (await queue.getJobs(["prioritized", "waiting"])).filter(
        (j) => j.name === "bucket.apply",
      );
      expect(job?.data).toEqual({ bucket: BUCKET });

      const apply = bucketApplyHandler({
        bucketPolicies: buckets,
        metrics: createWorkerMetrics(),
        logger: createLogger({ name: "test", level: "silent" }),
      });
      await apply({ bucket: BUCKET });
      await deniedBy(read(session), "DenyEndedSessions1");
      expect((await db.protectedBucket.findUniqueOrThrow({ where: { name: BUCKET } })).dirtySince).toBeNull();
    } finally {
      await clearPrefix(connection, prefix);
      await queue.close();
      await producer.close();
      await connection.quit();
    }
  });
});
