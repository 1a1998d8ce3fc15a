// Issue 11's per-set session cut-off, end to end: a worker (in this process, wired as main.ts
// wires it) turns lease ends and revocations into cut-offs through the outbox and the queue, and
// applies the protected buckets' policies through the real S3 SDK; users sign in through the SSO
// portal (the real client-sso) and read through the real S3 client; the AWS emulator evaluates
// every call against the policy in force, with aws:TokenIssueTime in the session's context.
import { randomUUID } from "node:crypto";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import type { PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator, testFlowRules } from "@keyturn/testkit";
import {
  ADMIN_ROLE_ARN,
  caught,
  keyturnCaller,
  portalClient,
  sessionS3Client,
  standardSeed,
} from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  applyBucketPolicy,
  type BucketPolicyS3Deps,
  type Deps,
  putFlow,
  putProtectedBucket,
  revokeRequest,
} from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerMetrics } from "./metrics.js";
import { approveRequest, person } from "./testing/access-world.js";
import { startCutoffWorker } from "./testing/cutoff-worker.js";
import { eventually } from "./worker-harness.js";

const ACCOUNT = "111122223333";
const DATA = "cutoff-data";
const MORE = "cutoff-more";
const KEYTURN_KEY = "AKIAKEYTURNS3CUTOFF1";
const KEYTURN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const admin = { type: "token", id: "test-admin", label: "test" } as const;

const spec = (readers: Array<{ permissionSet: string }>) => ({
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
    "read-config": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
    "read-data": readers,
    "write-data": [{ permissionSet: "S3Access" }],
  },
});

const database = useTestDatabase();
const prefix = `keyturn-test-cutoff-${randomUUID().slice(0, 8)}`;
let db: PrismaClient;
let emulator: AwsEmulator;
let deps: Deps;
let s3: BucketPolicyS3Deps;
let stopWorker: () => Promise<void>;
const metrics = createWorkerMetrics();
const clients: S3Client[] = [];

beforeAll(async () => {
  // Protected buckets encrypt with SSE-KMS by default: the first apply checks it.
  const KMS = { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/data" } as const;
  emulator = await startAwsEmulator({ seed: 111, assignmentDelayMs: 20 });
  const seed = standardSeed();
  emulator.seed({
    ...seed,
    permissionSets: [...(seed.permissionSets ?? []), { name: "S3Read", sessionDuration: "PT1H" }],
    callers: [...(seed.callers ?? []), keyturnCaller(KEYTURN_KEY, KEYTURN_ROLE_ARN, [DATA, MORE])],
    buckets: [
      { name: DATA, accountId: ACCOUNT, encryption: KMS, objects: { "q1.csv": "revenue,42" } },
      { name: MORE, accountId: ACCOUNT, encryption: KMS, objects: { "q2.csv": "revenue,43" } },
    ],
  });
  const worker = await startCutoffWorker({
    databaseUrl: database.url,
    emulator,
    prefix,
    keyturnKey: KEYTURN_KEY,
    metrics,
  });
  ({ db, deps, s3 } = worker);
  stopWorker = worker.stop;
  for (const [name, target] of [
    ["s3", "S3Access"],
    ["read", "S3Read"],
  ] as const) {
    const flow = await putFlow(deps, {
      name,
      rules: testFlowRules({ targets: [{ accountId: ACCOUNT, permissionSetName: target }] }),
      by: admin,
    });
    expect(flow.ok).toBe(true);
  }
  for (const [bucket, readers] of [
    [DATA, [{ permissionSet: "S3Access" }, { permissionSet: "S3Read" }]],
    [MORE, [{ permissionSet: "S3Access" }]],
  ] as const) {
    expect((await putProtectedBucket(s3, { name: bucket, spec: spec([...readers]), by: admin })).ok).toBe(
      true,
    );
    expect((await applyBucketPolicy(s3, { name: bucket, by: admin, reason: "test" })).ok).toBe(true);
  }
});

afterAll(async () => {
  for (const client of clients) {
    client.destroy();
  }
  await stopWorker();
  await emulator.close();
  await db.$disconnect();
});

async function grant(flowName: string, email: string): Promise<string> {
  const requestId = await approveRequest(deps, { flowName, email, durationSeconds: 3600 });
  await eventually(
    async () => (await db.accessRequest.findUnique({ where: { id: requestId } }))?.status === "active",
  );
  return requestId;
}

/** Signs in through the portal as `aws sso login` would and returns an S3 client on the session. */
async function session(userName: string, roleName: string): Promise<S3Client> {
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

const read = async (client: S3Client, bucket = DATA, key = "q1.csv") =>
  (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();

/** The refusal comes from one of the cut-off statements. */
async function refused(client: S3Client, bucket = DATA, key = "q1.csv"): Promise<boolean> {
  const error = await caught(read(client, bucket, key)).catch(() => undefined);
  return error?.name === "AccessDenied" && /Sid "DenyEndedSessions\d+"/.test(error.message);
}

const audits = (action: string) => db.auditEvent.findMany({ where: { action }, orderBy: { seq: "asc" } });

describe("a per-set session cut-off, armed at the lease's end", () => {
  let oldAccess: S3Client;
  let gapAccess: S3Client;
  let reader: S3Client;
  let accessRequest: string;

  it("alice holding S3Read and S3Access reads through both", async () => {
    await grant("read", "alice@example.com");
    accessRequest = await grant("s3", "alice@example.com");
    reader = await session("alice", "S3Read");
    oldAccess = await session("alice", "S3Access");
    expect(await read(reader)).toBe("revenue,42");
    expect(await read(oldAccess)).toBe("revenue,42");
    expect(await read(oldAccess, MORE, "q2.csv")).toBe("revenue,43");
  });

  it("S3Access ends: her S3Access sessions are refused in every bucket before Identity Center removes anything", async () => {
    // Identity Center cannot remove the assignment for now: the cut-off must not wait for it.
    emulator.faults.failNext({
      operation: "DeleteAccountAssignment",
      code: "ThrottlingException",
      count: 10_000,
    });
    const revoked = await revokeRequest(deps, {
      requestId: accessRequest,
      by: person("ann@example.com"),
      asAdmin: false,
    });
    expect(revoked.ok).toBe(true);
    await eventually(() => refused(oldAccess), 15_000);
    await eventually(() => refused(oldAccess, MORE, "q2.csv"), 15_000);
    // The assignment is still in AWS, so the portal still mints sessions: those are refused too.
    gapAccess = await session("alice", "S3Access");
    expect(await refused(gapAccess)).toBe(true);
    // Her other set is not this cut-off's business.
    expect(await read(reader)).toBe("revenue,42");
    expect(holds("alice", "S3Access")).toBe(true);
    const [armed] = await audits("session_cutoff.added");
    expect(armed?.data).toMatchObject({
      cutoffs: [
        expect.objectContaining({ accountId: ACCOUNT, permissionSetName: "S3Access", issuedBefore: null }),
      ],
    });
  });

  it("once Identity Center removes it, the portal refuses new sessions and the old ones stay refused", async () => {
    emulator.faults.reset();
    await eventually(async () => !holds("alice", "S3Access"), 30_000);
    expect((await caught(session("alice", "S3Access"))).name).toBe("ForbiddenException");
    expect(await refused(oldAccess)).toBe(true);
    expect(await read(reader)).toBe("revenue,42");
  });

  it("S3Access granted again works once provisioned, while her old S3Access sessions stay refused", async () => {
    await grant("s3", "alice@example.com");
    const fresh = await session("alice", "S3Access");
    expect(await read(fresh)).toBe("revenue,42");
    expect(await read(fresh, MORE, "q2.csv")).toBe("revenue,43");
    expect(await refused(oldAccess)).toBe(true);
    expect(await refused(gapAccess)).toBe(true);
    expect(await read(reader)).toBe("revenue,42");
  });

  it("every policy change is audited, and no bucket got two PutBucketPolicy within a second", async () => {
    const applied = await audits("bucket_policy.applied");
    expect(
      applied.filter((event) => (event.data as { reason?: string }).reason === "session_cutoffs").length,
    ).toBeGreaterThan(0);
    for (const bucket of [DATA, MORE]) {
      const puts = (call: { operation: string; input: Record<string, unknown> }) =>
        call.operation === "PutBucketPolicy" && call.input.bucket === bucket;
      expect(emulator.maxCallsInAnyWindow(999, puts)).toBeLessThanOrEqual(1);
    }
  });
});

describe("S3 refusing a PutBucketPolicy", () => {
  it("leaves the policy in force (every cut-off in it), is retried until it lands, and shows on /metrics", async () => {
    const bobRequest = await grant("s3", "bob@example.com");
    const bob = await session("bob", "S3Access");
    // Bob's grant is settled, and with it whatever it applied: the next puts are the revocation's.
    await eventually(async () =>
      (await db.protectedBucket.findMany()).every((row) => row.dirtySince === null),
    );
    const before = (await s3.store.getPolicy(DATA)) ?? "";
    emulator.faults.failNext({
      operation: "PutBucketPolicy",
      code: "ServiceUnavailable",
      count: 2,
      status: 503,
    });
    await revokeRequest(deps, { requestId: bobRequest, by: person("ann@example.com"), asAdmin: false });
    // The first attempts fail: S3 keeps the previous policy (with alice's cut-off).
    await eventually(async () => (await audits("bucket_policy.apply_failed")).length > 0);
    const during = (await s3.store.getPolicy(DATA)) ?? "";
    expect(during === before || (await refused(bob))).toBe(true);
    await eventually(() => refused(bob), 30_000);
    const failed = await audits("bucket_policy.apply_failed");
    expect(failed[0]?.data).toMatchObject({ code: expect.any(String), reason: "session_cutoffs" });
    const text = await metrics.registry.metrics();
    // Both buckets name S3Access and are applied together: either may have met the two refusals.
    expect(text).toMatch(
      /keyturn_bucket_policy_apply_failures_total\{bucket="cutoff-(data|more)",code="[A-Z_]+"\} [1-9]/,
    );
    expect(text).toMatch(/keyturn_session_cutoffs\{bucket="cutoff-data"\} [1-9]/);
    expect(text).toMatch(/keyturn_session_cutoff_capacity\{bucket="cutoff-data"\} [1-9]\d\d/);
    // Every wanted change lands in the end: nothing left failing or waiting.
    await eventually(async () => {
      const rows = await db.protectedBucket.findMany();
      return rows.every((row) => row.applyFailingSince === null && row.dirtySince === null);
    });
    expect(await refused(bob, MORE, "q2.csv")).toBe(true);
  });
});

/** Whether Identity Center (the emulator) holds the user's assignment of the set. */
function holds(userName: string, setName: string): boolean {
  const snapshot = emulator.snapshot();
  const userId = snapshot.users.find((user) => user.userName === userName)?.userId;
  const setArn = snapshot.permissionSets.find((set) => set.name === setName)?.permissionSetArn;
  return emulator.assignments().some((a) => a.principalId === userId && a.permissionSetArn === setArn);
}
