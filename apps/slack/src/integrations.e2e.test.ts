import { createJiraTickets, createPagerDutyOnCall } from "@keyturn/integrations";
import { ACTION_IDS, slackPrincipal } from "@keyturn/slack";
import {
  type JiraEmulator,
  type PagerDutyEmulator,
  startJiraEmulator,
  startPagerDutyEmulator,
} from "@keyturn/testkit/provider-emulators";
import { pollTickets, submitRequest } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  APPROVAL_CHANNEL,
  flowRules,
  formValues,
  modalOutcome,
  openAccessModal,
  PEOPLE,
  textOf,
  useSlackWorld,
} from "./test-support.js";

// On-call approval and ticket-bound access on the wire: the Slack app, the real @pagerduty/pdjs
// and jira.js clients against the PagerDuty and Jira emulators, the outbox run as the worker runs
// it, and the grant in the AWS emulator.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Small, so that a hung provider fails the check quickly; generous for a busy machine otherwise.
const CHECK_TIMEOUT_MS = 3_000;

let pd: PagerDutyEmulator;
let jira: JiraEmulator;
let primary = "";

beforeAll(async () => {
  pd = await startPagerDutyEmulator();
  jira = await startJiraEmulator();
  const platform = pd.addEscalationPolicy({ name: "Platform" });
  primary = pd.addSchedule({ name: "Primary" }).id;
  const alice = pd.addUser({ name: "Alice", email: PEOPLE.alice.email });
  const dave = pd.addUser({ name: "Dave", email: PEOPLE.dave.email });
  pd.addUser({ name: "Bob", email: PEOPLE.bob.email });
  const now = Date.now();
  pd.addOnCall({
    userId: alice.id,
    escalationPolicyId: platform.id,
    scheduleId: primary,
    start: now - HOUR,
    end: now + 6 * HOUR,
  });
  // Dave's shift ends in 20 minutes: a longer request is capped at its end.
  pd.addOnCall({
    userId: dave.id,
    escalationPolicyId: platform.id,
    scheduleId: primary,
    start: now - HOUR,
    end: now + 20 * MINUTE,
  });

  jira.addProject("OPS");
  jira.addProject("ENG");
  jira.addStatus({ name: "In Progress", category: "indeterminate" });
  jira.addStatus({ name: "Done", category: "done" });
  for (const person of [PEOPLE.alice, PEOPLE.bob, PEOPLE.mallory]) {
    jira.addUser({ displayName: person.name, email: person.email });
  }
  jira.createIssue({
    projectKey: "OPS",
    summary: "Disk full on db-1",
    status: "In Progress",
    assigneeEmail: PEOPLE.alice.email,
  }); // OPS-1
  jira.createIssue({
    projectKey: "OPS",
    summary: "Old outage",
    status: "Done",
    assigneeEmail: PEOPLE.alice.email,
  }); // OPS-2
  jira.createIssue({
    projectKey: "OPS",
    summary: "Bob's change",
    status: "In Progress",
    assigneeEmail: PEOPLE.bob.email,
  }); // OPS-3
  jira.createIssue({
    projectKey: "ENG",
    summary: "Refactor",
    status: "In Progress",
    assigneeEmail: PEOPLE.alice.email,
  }); // ENG-1
  jira.createIssue({
    projectKey: "OPS",
    summary: "Mallory's incident",
    status: "In Progress",
    assigneeEmail: PEOPLE.mallory.email,
  }); // OPS-4
});

afterAll(async () => {
  await pd?.close();
  await jira?.close();
});

const world = useSlackWorld({
  integrations: () => ({
    onCall: {
      pagerduty: createPagerDutyOnCall({
        token: pd.token,
        baseUrl: pd.url,
        timeoutMs: CHECK_TIMEOUT_MS,
        rateLimitRetryDelayMs: 1,
      }),
    },
    tickets: {
      jira: createJiraTickets({ siteUrl: jira.url, ...jira.credentials, timeoutMs: CHECK_TIMEOUT_MS }),
    },
  }),
});

const onCallRule = () => ({
  provider: "pagerduty" as const,
  schedules: [primary],
  escalationPolicies: [],
});

beforeAll(async () => {
  await world.putFlow(
    "on-call",
    flowRules({ onCallApproval: onCallRule(), defaultDurationSeconds: 3600, maxDurationSeconds: 4 * 3600 }),
  );
  await world.putFlow(
    "on-call-capped",
    flowRules({
      onCallApproval: { ...onCallRule(), maxGrantSeconds: 900 },
      defaultDurationSeconds: 3600,
      maxDurationSeconds: 4 * 3600,
    }),
  );
  await world.putFlow(
    "ticketed",
    flowRules({
      ticket: { required: true, check: { provider: "jira", projects: ["OPS"], assignedToRequester: true } },
    }),
  );
  // Auto-approved but bound to its ticket: the closing of the ticket is what ends it early.
  await world.putFlow(
    "ticket-bound",
    flowRules({ autoApprove: true, ticket: { required: true, check: { provider: "jira" } } }),
  );
});

type Person = (typeof PEOPLE)[keyof typeof PEOPLE];

async function submit(
  person: Person,
  flow: string,
  extra: { ticket?: string; durationSeconds?: number } = {},
) {
  return submitRequest(world.usecases, {
    flowName: flow,
    requester: slackPrincipal(person.email, person.id, []),
    source: "slack",
    reason: "incident response",
    ...extra,
  });
}

async function submitAndPump(person: Person, flow: string, extra: { durationSeconds?: number } = {}) {
  const submitted = await submit(person, flow, extra);
  if (!submitted.ok) {
    throw new Error(submitted.error.message);
  }
  const report = await world.pump();
  expect(report.failed).toEqual([]);
  return world.db.accessRequest.findUniqueOrThrow({ where: { id: submitted.value.id } });
}

function assignmentOf(person: "alice" | "dave" | "bob") {
  return {
    accountId: ACCOUNT,
    permissionSetArn: world.permissionSetArns.S3Access,
    principalType: "USER",
    principalId: world.idcUsers[person],
  };
}

async function approvalMessageOf(requestId: string): Promise<string> {
  const record = await world.db.slackMessage.findUniqueOrThrow({
    where: { requestId_kind: { requestId, kind: "approval" } },
  });
  const message = world.fake.messages(APPROVAL_CHANNEL).find((m) => m.ts === record.ts);
  return textOf(message?.blocks);
}

describe("on-call approval", () => {
  it("approves an on-call requester by Keyturn, with PagerDuty's evidence, and grants the access in AWS", async () => {
    const request = await submitAndPump(PEOPLE.alice, "on-call", { durationSeconds: 3600 });
    expect(request).toMatchObject({ status: "active", onCallOutcome: "approved", durationSeconds: 3600 });
    expect(world.emulator.assignments()).toContainEqual(expect.objectContaining(assignmentOf("alice")));
    const approved = await world.db.auditEvent.findFirstOrThrow({
      where: { requestId: request.id, action: "request.approved" },
    });
    expect(approved.actorType).toBe("system");
    expect(approved.data).toMatchObject({
      mode: "on_call",
      approverIds: [],
      onCall: {
        shift: { schedule: { id: primary, name: "Primary" } },
        evidence: { provider: "pagerduty", entriesSeen: expect.any(Number) },
      },
    });
    const card = await approvalMessageOf(request.id);
    expect(card).toContain("Approved by Keyturn");
    expect(card).toContain(`schedule Primary (${primary})`);
    // Nobody was asked to approve it: the channel message was first posted once the check said so.
    const posts = world.fake.calls(
      (c) =>
        c.method === "chat.postMessage" &&
        c.args.channel === APPROVAL_CHANNEL &&
        textOf(c.args).includes(request.id),
    );
    expect(posts).toHaveLength(1);
    expect(textOf(posts[0]?.args)).not.toContain(ACTION_IDS.approve);
  });

  it("sends someone who is not on call to the approvers, saying so", async () => {
    const request = await submitAndPump(PEOPLE.bob, "on-call");
    expect(request).toMatchObject({ status: "pending", onCallOutcome: "not_on_call" });
    expect(world.emulator.assignments()).not.toContainEqual(expect.objectContaining(assignmentOf("bob")));
    expect(await approvalMessageOf(request.id)).toContain("Not on call in the flow");
  });

  it.each([
    ["a 5xx", { kind: "server-error", status: 503 } as const, "unavailable"],
    [
      "rate limiting (429, every retry)",
      { kind: "rate-limit", retryAfterSeconds: 0 } as const,
      "rate_limited",
    ],
    ["an answer that is not JSON", { kind: "malformed" } as const, "malformed"],
    ["no answer at all", { kind: "hang" } as const, "timeout"],
  ])(
    "never approves on %s: the request goes to the approvers with the failure",
    async (_name, fault, reason) => {
      pd.failNext("GET /oncalls", fault, 10);
      try {
        const request = await submitAndPump(PEOPLE.alice, "on-call");
        expect(request).toMatchObject({ status: "pending", onCallOutcome: "check_failed", decidedAt: null });
        expect(request.onCallNote).toContain(`On-call check failed (${reason}`);
        expect(await approvalMessageOf(request.id)).toContain("On-call check failed");
        expect(await world.db.lease.count({ where: { requestId: request.id } })).toBe(0);
      } finally {
        pd.clearFaults();
      }
    },
  );

  it("caps the grant at the end of the shift, and at the flow's maxGrantSeconds", async () => {
    const shiftEnd = (await submitAndPump(PEOPLE.dave, "on-call", { durationSeconds: 2 * 3600 })) as {
      status: string;
      durationSeconds: number;
      notAfter: Date | null;
      expiresAt: Date | null;
    };
    expect(shiftEnd.status).toBe("active");
    expect(shiftEnd.durationSeconds).toBeLessThanOrEqual(20 * 60);
    expect(shiftEnd.notAfter).not.toBeNull();
    expect(shiftEnd.expiresAt?.getTime()).toBeLessThanOrEqual(shiftEnd.notAfter?.getTime() ?? 0);

    const flowCap = await submitAndPump(PEOPLE.alice, "on-call-capped", { durationSeconds: 2 * 3600 });
    expect(flowCap).toMatchObject({ status: "active", durationSeconds: 900 });
    // The flow's 15 minutes from activation, ending on the whole second.
    const flowCapStart = flowCap.activatedAt?.getTime() ?? 0;
    expect(flowCap.expiresAt?.getTime()).toBe(Math.floor((flowCapStart + 900_000) / 1000) * 1000);
  });
});

describe("ticket-bound access", () => {
  it.each([
    ["OPS-999", "TICKET_NOT_FOUND"],
    ["ENG-1", "TICKET_WRONG_PROJECT"],
    ["OPS-2", "TICKET_CLOSED"],
    ["OPS-3", "TICKET_NOT_ASSIGNED_TO_REQUESTER"],
  ])("refuses %s with the precise reason (%s), creating nothing", async (ticket, code) => {
    const before = await world.db.accessRequest.count();
    const result = await submit(PEOPLE.alice, "ticketed", { ticket });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({
      code: "TICKET_REJECTED",
      details: { problems: [expect.objectContaining({ code })] },
    });
    expect(await world.db.accessRequest.count()).toBe(before);
  });

  it("refuses when Jira cannot answer: 'could not check', never accepted", async () => {
    jira.failNext("GET /rest/api/3/issue/{issueIdOrKey}", { kind: "server-error", status: 502 }, 5);
    try {
      const result = await submit(PEOPLE.alice, "ticketed", { ticket: "OPS-1" });
      expect(!result.ok && result.error).toMatchObject({
        code: "TICKET_REJECTED",
        message: expect.stringContaining("could not check OPS-1"),
      });
    } finally {
      jira.clearFaults();
    }
  });

  it("says why in the modal itself", async () => {
    const { view } = await openAccessModal(world, PEOPLE.alice.id, "ticketed 1h");
    const submission = await world.slack.viewSubmission({
      userId: PEOPLE.alice.id,
      view: {
        id: view.id,
        state: {
          values: formValues({ flow: "ticketed", durationSeconds: 3600, reason: "fix it", ticket: "OPS-2" }),
        },
      },
    });
    expect(submission.json).toMatchObject({ response_action: "update" });
    expect(textOf((await modalOutcome(world, view.id)).args.view)).toContain("OPS-2 is closed (Done)");
  });

  it("shows a valid ticket's title and link to the approvers", async () => {
    // Typed in lower case: the key is normalized before it is looked up.
    const submitted = await submit(PEOPLE.alice, "ticketed", { ticket: "ops-1" });
    expect(submitted.ok && submitted.value.linkedTicket).toMatchObject({
      key: "OPS-1",
      title: "Disk full on db-1",
    });
    if (!submitted.ok) {
      return;
    }
    expect((await world.pump()).failed).toEqual([]);
    const card = await approvalMessageOf(submitted.value.id);
    expect(card).toContain(`<${jira.url}/browse/OPS-1|OPS-1>`);
    expect(card).toContain("Disk full on db-1");
  });

  it("answers a repeated submission (a Slack retry) with the first request, without checking again", async () => {
    jira.createIssue({
      projectKey: "OPS",
      summary: "Retry me",
      status: "In Progress",
      assigneeEmail: PEOPLE.alice.email,
    }); // OPS-5
    const first = await submitRequest(world.usecases, {
      flowName: "ticketed",
      requester: slackPrincipal(PEOPLE.alice.email, PEOPLE.alice.id, []),
      source: "slack",
      reason: "retry",
      ticket: "OPS-5",
      idempotencyKey: "slack-view:retry-test",
    });
    expect(first.ok).toBe(true);
    await jira.transitionIssue("OPS-5", "Done");
    jira.clearCalls();
    const retry = await submitRequest(world.usecases, {
      flowName: "ticketed",
      requester: slackPrincipal(PEOPLE.alice.email, PEOPLE.alice.id, []),
      source: "slack",
      reason: "retry",
      ticket: "OPS-5",
      idempotencyKey: "slack-view:retry-test",
    });
    expect(retry.ok && first.ok && retry.value.id).toBe(first.ok ? first.value.id : "");
    expect(jira.calls()).toEqual([]);
  });

  it("ends the access when its ticket closes and the webhook was lost: the poll catches it, once", async () => {
    const submitted = await submit(PEOPLE.mallory, "ticket-bound", { ticket: "OPS-4" });
    if (!submitted.ok) {
      throw new Error(submitted.error.message);
    }
    expect((await world.pump()).failed).toEqual([]);
    const mallory = { ...assignmentOf("alice"), principalId: world.idcUsers.mallory };
    expect(world.emulator.assignments()).toContainEqual(expect.objectContaining(mallory));

    // No webhook reaches Keyturn (none subscribed: as lost as a dropped delivery).
    await jira.transitionIssue("OPS-4", "Done");
    const polled = await pollTickets(world.usecases);
    expect(polled.ok && polled.value.ended.map((r) => r.id)).toEqual([submitted.value.id]);
    expect((await world.pump()).failed).toEqual([]);
    expect(world.emulator.assignments()).not.toContainEqual(expect.objectContaining(mallory));
    const ended = await world.db.accessRequest.findUniqueOrThrow({ where: { id: submitted.value.id } });
    expect(ended).toMatchObject({ status: "revoked", endReason: "ended: ticket OPS-4 closed (Done)" });
    const audit = await world.db.auditEvent.findFirstOrThrow({
      where: { requestId: submitted.value.id, action: "request.revoked" },
    });
    expect(audit).toMatchObject({ actorType: "system", data: expect.objectContaining({ by: "keyturn" }) });
    // The requester is told.
    const dms = world.fake.calls(
      (c) => c.method === "chat.postMessage" && textOf(c.args).includes("ended: ticket OPS-4 closed"),
    );
    expect(dms.length).toBeGreaterThan(0);

    const again = await pollTickets(world.usecases);
    expect(again.ok && again.value.ended).toEqual([]);
    expect(
      await world.db.auditEvent.count({
        where: { requestId: submitted.value.id, action: "request.revoked" },
      }),
    ).toBe(1);
  });
});
