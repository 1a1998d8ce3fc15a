// Pre-armed session cut-offs, end to end: a worker (in this process, wired as main.ts wires it)
// writes a grant's cut-off into the bucket policy ahead of the grant's end, with the end as its
// start, through the real S3 SDK; the AWS emulator evaluates every call against the policy in force
// with its own clock as aws:CurrentTime. So once the pre-armed policy has landed, S3 refuses the
// ended grant's live session at the end even with Keyturn's worker stopped; and an extension
// withdraws the pre-armed cut-off before the old end comes.
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
  ARM_LOOKBACK_MS,
  applyBucketPolicy,
  type BucketPolicyS3Deps,
  bucketAccessReport,
  type Deps,
  extendRequest,
  PREARM_LEAD_MS,
  putFlow,
  putProtectedBucket,
  refreshSessionCutoffs,
} from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerMetrics } from "./metrics.js";
import { approveRequest, person } from "./testing/access-world.js";
import { startCutoffWorker } from "./testing/cutoff-worker.js";
import { eventually } from "./worker-harness.js";

const ACCOUNT = "111122223333";
const DATA = "prearm-data";
const KEYTURN_KEY = "AKIAKEYTURNS3PREARM1";
const KEYTURN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Keyturn`;
const admin = { type: "token", id: "test-admin", label: "test" } as const;
/** Shorter than the lead, so the cut-off is pre-armed as soon as the grant is active. */
const GRANT_SECONDS = 25;
/** How late after the end the first refusal may be: the poll and a busy machine, not the worker. */
const REFUSAL_BOUND_MS = 5_000;

const database = useTestDatabase();
const prefix = `keyturn-test-prearm-${randomUUID().slice(0, 8)}`;
let db: PrismaClient;
let emulator: AwsEmulator;
let deps: Deps;
let s3: BucketPolicyS3Deps;
let stopWorker: () => Promise<void>;
/** alice's long grant, for the last test (granted while the worker runs). */
let aliceRequest: string;
const clients: S3Client[] = [];
const metrics = createWorkerMetrics();

beforeAll(async () => {
  const KMS = { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/data" } as const;
  emulator = await startAwsEmulator({ seed: 112, assignmentDelayMs: 20 });
  const seed = standardSeed();
  emulator.seed({
    ...seed,
    callers: [...(seed.callers ?? []), keyturnCaller(KEYTURN_KEY, KEYTURN_ROLE_ARN, [DATA])],
    buckets: [{ name: DATA, accountId: ACCOUNT, encryption: KMS, objects: { "q1.csv": "revenue,42" } }],
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
  const flow = await putFlow(deps, {
    name: "s3",
    rules: testFlowRules({ extensions: { maxCount: 2, maxExtensionSeconds: 3600, requiresApproval: false } }),
    by: admin,
  });
  expect(flow.ok).toBe(true);
  const spec = {
    accountId: ACCOUNT,
    capabilities: {
      "administer-resource": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
      "read-config": [{ roleArn: ADMIN_ROLE_ARN }, { roleArn: KEYTURN_ROLE_ARN }],
      "read-data": [{ permissionSet: "S3Access" }],
    },
  };
  expect((await putProtectedBucket(s3, { name: DATA, spec, by: admin })).ok).toBe(true);
  expect((await applyBucketPolicy(s3, { name: DATA, by: admin, reason: "test" })).ok).toBe(true);
  aliceRequest = (await grant("alice@example.com", 3600)).requestId;
});

afterAll(async () => {
  for (const client of clients) {
    client.destroy();
  }
  await stopWorker();
  await emulator.close();
  await db.$disconnect();
});

/** Grants S3Access (GRANT_SECONDS); resolves once active, with the request and the lease's end. */
async function grant(email: string, seconds = GRANT_SECONDS): Promise<{ requestId: string; endsAt: number }> {
  const requestId = await approveRequest(deps, { flowName: "s3", email, durationSeconds: seconds });
  const lease = await eventually(async () => {
    const request = await db.accessRequest.findUnique({ where: { id: requestId } });
    return request?.status === "active" ? db.lease.findFirst({ where: { requestId } }) : undefined;
  });
  if (lease === null) {
    throw new Error("no lease");
  }
  return { requestId, endsAt: lease.endsAt.getTime() };
}

async function session(userName: string): Promise<S3Client> {
  const { accessToken } = emulator.signIn(userName);
  const portal = portalClient(emulator);
  try {
    const output = await portal.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "S3Access" }),
    );
    const client = sessionS3Client(emulator, output.roleCredentials);
    clients.push(client);
    return client;
  } finally {
    portal.destroy();
  }
}

/** "read", "refused" (by a cut-off statement), or what else S3 answered. */
async function attempt(client: S3Client): Promise<string> {
  const reading = client.send(new GetObjectCommand({ Bucket: DATA, Key: "q1.csv" }));
  try {
    return (await (await reading).Body?.transformToString()) === "revenue,42" ? "read" : "wrong body";
  } catch {
    const failure = await caught(reading);
    return failure.name === "AccessDenied" && /Sid "DenyEndedSessions\d+"/.test(failure.message)
      ? "refused"
      : `${failure.name}: ${failure.message}`;
  }
}

/** The live policy's pre-armed statement for this user's cut-off, once it has landed. */
async function prearmedStatement(userName: string) {
  const identity = await db.identity.findFirst({ where: { email: `${userName}@example.com` } });
  const userId = identity?.identityStoreUserId;
  const live = await s3.store.getPolicy(DATA);
  if (userId === null || userId === undefined || live === null) {
    return undefined;
  }
  const statements = (JSON.parse(live) as { Statement: Array<Record<string, unknown>> }).Statement;
  return statements.find((statement) => {
    const condition = JSON.stringify(statement.Condition ?? {});
    return condition.includes("DateGreaterThanEquals") && condition.includes(userId.slice(-36));
  });
}

describe("a cut-off pre-armed ahead of the lease's end", () => {
  it("an extension after the pre-arm withdraws it: the session keeps reading past the old end", async () => {
    const { requestId, endsAt } = await grant("bob@example.com");
    const bob = await session("bob");
    expect(await attempt(bob)).toBe("read");
    await eventually(() => prearmedStatement("bob"), 20_000);
    const [prearmed] = await db.auditEvent.findMany({ where: { action: "session_cutoff.added" } });
    expect(prearmed?.data).toMatchObject({
      cutoffs: [
        expect.objectContaining({ startsAt: new Date(Math.ceil(endsAt / 1000) * 1000).toISOString() }),
      ],
    });
    const extended = await extendRequest(deps, {
      requestId,
      by: person("bob@example.com"),
      additionalSeconds: 600,
    });
    expect(extended.ok).toBe(true);
    // Withdrawn from the policy before the old end comes (the extension is 600 s, past the lead).
    await eventually(async () => (await prearmedStatement("bob")) === undefined, 20_000);
    expect(Date.now()).toBeLessThan(endsAt);
    expect((await db.auditEvent.findMany({ where: { action: "session_cutoff.withdrawn" } })).length).toBe(1);
    // Past the old end (and the second it was rounded up to): still reading.
    await eventually(async () => Date.now() > endsAt + 2_000, GRANT_SECONDS * 1000 + 10_000, 200);
    expect(await attempt(bob)).toBe("read");
  }, 120_000);

  it("with the worker stopped once it has landed, S3 still refuses the session from the lease's end", async () => {
    const { endsAt } = await grant("carol@example.com");
    expect(endsAt - Date.now()).toBeLessThan(PREARM_LEAD_MS);
    const carol = await session("carol");
    expect(await attempt(carol)).toBe("read");
    await eventually(() => prearmedStatement("carol"), 20_000);
    // Until the end she holds the set, and the effective-access report (at aws:CurrentTime =
    // now) says so: the pre-armed statement does not apply yet.
    const report = await bucketAccessReport(s3, { name: DATA });
    expect(report.ok && Date.now() < endsAt).toBe(true);
    const holders = report.ok
      ? report.value.capabilities
          .find((entry) => entry.capability === "read-data")
          ?.grants.flatMap((entry) => entry.holders ?? [])
          .map((holder) => holder.email)
      : [];
    expect(holders).toContain("carol@example.com");
    // /metrics counts it apart from the cut-offs in force.
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/keyturn_session_cutoffs_prearmed\{bucket="prearm-data"\} 1\n/);
    expect(text).toMatch(/keyturn_session_cutoffs\{bucket="prearm-data"\} 0\n/);
    // From here on nothing Keyturn does matters: no arm at the end, no removal.
    await stopWorker();
    const outcomes: Array<{ sentAt: number; answeredAt: number; outcome: string }> = [];
    await eventually(
      async () => {
        const sentAt = Date.now();
        const outcome = await attempt(carol);
        outcomes.push({ sentAt, answeredAt: Date.now(), outcome });
        return outcome !== "read";
      },
      GRANT_SECONDS * 1000 + 30_000,
      100,
    );
    const first = outcomes.find((entry) => entry.outcome !== "read");
    expect(first?.outcome).toBe("refused");
    // Never refused before the end: the refusal was answered at or after it...
    expect(first?.answeredAt ?? 0).toBeGreaterThanOrEqual(endsAt);
    // ... and reads went through right up to it (the last read was sent within the bound).
    const lastRead = outcomes.filter((entry) => entry.outcome === "read").at(-1);
    expect(lastRead?.sentAt ?? 0).toBeGreaterThan(endsAt - REFUSAL_BOUND_MS);
    // Refused soon after the end, with no worker running.
    expect(first?.sentAt ?? Number.POSITIVE_INFINITY).toBeLessThan(endsAt + REFUSAL_BOUND_MS);
    expect(await attempt(carol)).toBe("refused");
  }, 120_000);

  it("an extension whose cut-off run comes only after the old end still withdraws the pre-armed cut-off", async () => {
    // The worker is stopped: the use case runs here, at the moments chosen.
    const cutoffs = { ...s3, sessionDurationSeconds: async () => 3600 };
    const since = () => new Date(Date.now() - ARM_LOOKBACK_MS);
    const alice = (await db.identity.findFirst({ where: { email: "alice@example.com" } }))
      ?.identityStoreUserId;
    expect(alice).toEqual(expect.any(String));
    const mine = (report: Awaited<ReturnType<typeof refreshSessionCutoffs>>) =>
      report.changes.filter((entry) => entry.identityStoreUserId === alice);
    // alice's lease is about to end: pre-armed.
    const oldEnd = Date.now() + 3_000;
    await db.lease.update({ where: { requestId: aliceRequest }, data: { endsAt: new Date(oldEnd) } });
    const prearmed = await refreshSessionCutoffs(cutoffs, { since: since() });
    expect(mine(prearmed)).toEqual([
      expect.objectContaining({
        change: "added",
        startsAt: new Date(Math.ceil(oldEnd / 1000) * 1000).toISOString(),
      }),
    ]);
    // Extended (its transaction committed), but the run it wrote comes only after the old end.
    await db.lease.update({
      where: { requestId: aliceRequest },
      data: { endsAt: new Date(oldEnd + 600_000) },
    });
    await eventually(async () => Date.now() > oldEnd + 1_500, 10_000, 100);
    const late = await refreshSessionCutoffs(cutoffs, { since: since() });
    expect(mine(late)).toEqual([expect.objectContaining({ change: "withdrawn" })]);
    expect(late.buckets).toEqual([DATA]);
    expect(
      await db.sessionCutoff.count({ where: { identityStoreUserId: alice ?? "", removedAt: null } }),
    ).toBe(0);
  });
});
