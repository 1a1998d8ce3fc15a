import { randomUUID } from "node:crypto";
import { createUnitOfWork } from "@keyturn/db";
import { createJiraTickets, createPagerDutyOnCall } from "@keyturn/integrations";
import { toBullJobId } from "@keyturn/queue";
import { type AwsEmulator, startAwsEmulator, testFlowRules } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  type JiraEmulator,
  type PagerDutyEmulator,
  startJiraEmulator,
  startPagerDutyEmulator,
} from "@keyturn/testkit/provider-emulators";
import { type Deps, type Principal, putFlow, submitRequest } from "@keyturn/usecases";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearPrefix, createRecordingNotifier, eventually, startTestWorker } from "./worker-harness.js";

// The integrations as the worker runs them. The on-call check: from the outbox written with the
// request, through the real @pagerduty/pdjs against the PagerDuty emulator, to the grant in the AWS
// emulator; and, when its job is lost, from the lease sweep, so that no request waits for a check
// that never comes. The ticket poll: a Jira close whose webhook never came ends the access in AWS.

const database = useTestDatabase();
const prefix = `keyturn-test-${randomUUID().slice(0, 8)}`;
let emulator: AwsEmulator;
let pd: PagerDutyEmulator;
let jira: JiraEmulator;
let harness: Awaited<ReturnType<typeof startTestWorker>>;
let deps: Deps;
let queue: Queue;

const person = (email: string): Principal => ({ email, audit: { type: "identity", id: email } });

beforeAll(async () => {
  emulator = await startAwsEmulator({ assignmentDelayMs: 20 });
  emulator.seed(standardSeed());
  pd = await startPagerDutyEmulator();
  const alice = pd.addUser({ name: "Alice", email: "alice@example.com" });
  const policy = pd.addEscalationPolicy({ name: "Platform" });
  const schedule = pd.addSchedule({ name: "Primary" });
  pd.addOnCall({
    userId: alice.id,
    escalationPolicyId: policy.id,
    scheduleId: schedule.id,
    start: Date.now() - 3600_000,
    end: Date.now() + 6 * 3600_000,
  });
  jira = await startJiraEmulator();
  jira.addProject("OPS");
  jira.addStatus({ name: "In Progress", category: "indeterminate" });
  jira.addStatus({ name: "Done", category: "done" });
  jira.createIssue({ projectKey: "OPS", summary: "Hotfix", status: "In Progress" }); // OPS-1
  const integrations = {
    onCall: { pagerduty: createPagerDutyOnCall({ token: pd.token, baseUrl: pd.url, timeoutMs: 5_000 }) },
    tickets: { jira: createJiraTickets({ siteUrl: jira.url, ...jira.credentials, timeoutMs: 5_000 }) },
  };
  harness = await startTestWorker({
    databaseUrl: database.url,
    emulator,
    prefix,
    notifier: createRecordingNotifier(),
    sweepIntervalMs: 1_000,
    ticketPollIntervalMs: 1_000,
    integrations,
  });
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  deps = { uow: createUnitOfWork(harness.db, { clock, ids }), clock, ids, integrations };
  const rules = testFlowRules({
    onCallApproval: { provider: "pagerduty", schedules: [schedule.id], escalationPolicies: [] },
    maxDurationSeconds: 3600,
  });
  expect((await putFlow(deps, { name: "on-call", rules, by: { type: "system", id: "test" } })).ok).toBe(true);
  const ticketBound = testFlowRules({
    autoApprove: true,
    ticket: { required: true, check: { provider: "jira" } },
  });
  expect(
    (await putFlow(deps, { name: "ticket-bound", rules: ticketBound, by: { type: "system", id: "test" } }))
      .ok,
  ).toBe(true);
  queue = new Queue("keyturn", { connection: harness.redis.producer, prefix });
});

afterAll(async () => {
  await queue?.close();
  await harness?.stop();
  const cleanup = new Redis("redis://127.0.0.1:6379");
  await clearPrefix(cleanup, prefix);
  await cleanup.quit();
  await emulator?.close();
  await pd?.close();
  await jira?.close();
});

async function submit(): Promise<string> {
  const submitted = await submitRequest(deps, {
    flowName: "on-call",
    requester: person("alice@example.com"),
    source: "api",
  });
  if (!submitted.ok) {
    throw new Error(submitted.error.message);
  }
  expect(submitted.value.status).toBe("pending");
  return submitted.value.id;
}

const requestRow = (id: string) => harness.db.accessRequest.findUniqueOrThrow({ where: { id } });

describe("the on-call check in the worker", () => {
  it("approves the on-call requester after submission and grants the access", async () => {
    const id = await submit();
    const active = await eventually(async () => {
      const row = await requestRow(id);
      return row.status === "active" ? row : undefined;
    });
    expect(active.onCallOutcome).toBe("approved");
    expect(emulator.assignments().length).toBeGreaterThan(0);
  });

  it("asks again from the sweep when the check's job was lost; the request waits with its approvers meanwhile", async () => {
    await queue.pause();
    try {
      const id = await submit();
      // Relayed into the paused queue, then lost (as in a Redis flush).
      const job = await eventually(
        async () => (await queue.getJob(toBullJobId(`on-call:${id}`))) ?? undefined,
      );
      await job.remove();
      expect(await requestRow(id)).toMatchObject({ status: "pending", onCallCheckedAt: null });
      await queue.resume();
      const approved = await eventually(async () => {
        const row = await requestRow(id);
        return row.onCallCheckedAt === null ? undefined : row;
      });
      expect(approved.onCallOutcome).toBe("approved");
      const audits = await harness.db.auditEvent.count({
        where: { requestId: id, action: "request.approved" },
      });
      expect(audits).toBe(1);
    } finally {
      await queue.resume();
    }
  });
});

describe("the ticket poll in the worker", () => {
  it("ends access whose Jira ticket closed without a webhook, and the assignment goes", async () => {
    const submitted = await submitRequest(deps, {
      flowName: "ticket-bound",
      requester: person("bob@example.com"),
      source: "api",
      ticket: "OPS-1",
    });
    if (!submitted.ok) {
      throw new Error(submitted.error.message);
    }
    const id = submitted.value.id;
    const bobs = async () => {
      const bob = await harness.db.identity.findUniqueOrThrow({ where: { email: "bob@example.com" } });
      return emulator.assignments().filter((a) => a.principalId === bob.identityStoreUserId);
    };
    await eventually(async () => (await requestRow(id)).status === "active");
    expect(await bobs()).toHaveLength(1);

    await jira.transitionIssue("OPS-1", "Done");
    const ended = await eventually(async () => {
      const row = await requestRow(id);
      return row.status === "revoked" ? row : undefined;
    });
    expect(ended.endReason).toBe("ended: ticket OPS-1 closed (Done)");
    await eventually(async () => (await bobs()).length === 0);
    expect(await harness.db.auditEvent.count({ where: { requestId: id, action: "request.revoked" } })).toBe(
      1,
    );
  });
});
