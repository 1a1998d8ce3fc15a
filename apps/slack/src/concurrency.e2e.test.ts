import { ACTION_IDS } from "@keyturn/slack";
import { beforeAll, describe, expect, it } from "vitest";
import {
  clickOnMessage,
  flowRules,
  formValues,
  modalOutcome,
  openAccessModal,
  PEOPLE,
  pendingRequest,
  redeliver,
  startSlackReplica,
  useSlackWorld,
} from "./test-support.js";

const world = useSlackWorld();
const { alice, ann, bob, carol, dave, mallory } = PEOPLE;

/** How often the app skipped a redelivery of this kind of interaction. */
function skipped(kind: string): number {
  return world.logs.filter((line) => line.includes("skipped a redelivered") && line.includes(`"${kind}"`))
    .length;
}

beforeAll(async () => {
  await world.putFlow("s3-prod", flowRules({ approvalsRequired: 1 }));
});

describe("two approvers clicking Approve at the same moment on a 1-approval flow", () => {
  it("make one decision; the other is told who decided", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const clicks = await Promise.all(
      [ann, bob].map((approver) =>
        clickOnMessage(world, {
          userId: approver.id,
          actionId: ACTION_IDS.approve,
          channelId: channel,
          messageTs: ts,
        }),
      ),
    );
    const replies = clicks.map((c) => c.reply);
    const won = replies.filter((r) => r.startsWith("You approved"));
    const lost = replies.filter((r) => r.startsWith("This request was already approved by"));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = replies[0]?.startsWith("You approved") ? ann : bob;
    expect(lost[0]).toContain(`already approved by <@${winner.id}>`);

    const request = await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request.status).toBe("approved");
    expect(await world.db.review.count({ where: { requestId } })).toBe(1);
    expect(await world.db.lease.count({ where: { requestId } })).toBe(1);
    expect(await world.db.auditEvent.count({ where: { requestId, action: "request.approved" } })).toBe(1);
  });
});

describe("a person's first actions, at the same moment", () => {
  it("each count: the row one of them makes is no conflict for the others", async () => {
    // Mallory has never used Keyturn: each submission looks her up and finds no row, and one of
    // them makes it (pinned to her Slack user) while the others are still asking Slack.
    const views = [];
    for (let i = 0; i < 4; i++) {
      views.push((await openAccessModal(world, mallory.id)).view);
    }
    await Promise.all(
      views.map((view, i) =>
        world.slack.viewSubmission({
          userId: mallory.id,
          view: {
            id: view.id,
            state: { values: formValues({ flow: "s3-prod", durationSeconds: 3600, reason: `first-${i}` }) },
          },
        }),
      ),
    );
    const outcomes = await Promise.all(views.map((view) => modalOutcome(world, view.id)));
    for (const outcome of outcomes) {
      expect(JSON.stringify(outcome.args.view)).not.toContain("another Slack account");
    }
    expect(await world.db.accessRequest.count({ where: { reason: { startsWith: "first-" } } })).toBe(4);
    const identity = await world.db.identity.findUniqueOrThrow({ where: { email: mallory.email } });
    expect(identity.slackUserId).toBe(mallory.id);
  });
});

describe("Slack retries of one interaction are processed once", () => {
  it("a redelivered view submission (X-Slack-Retry-Num: 1) makes one request and gets the same answer", async () => {
    const { view } = await openAccessModal(world, carol.id);
    const values = formValues({ flow: "s3-prod", durationSeconds: 3600, reason: "rotate the keys" });
    const first = await world.slack.viewSubmission({
      userId: carol.id,
      view: { id: view.id, state: { values } },
    });
    const retry = await redeliver(first);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
    await modalOutcome(world, view.id);
    // A later redelivery, after the request was made, is skipped as well.
    expect((await redeliver(first, { retryNum: 2 })).status).toBe(200);
    expect(skipped("slack-view")).toBe(2);
    expect(await world.db.accessRequest.count({ where: { requester: { email: carol.email } } })).toBe(1);
    // Nothing ran twice: one "sending" note replaced once.
    expect(world.fake.calls((c) => c.method === "views.update" && c.args.view_id === view.id)).toHaveLength(
      1,
    );
  });

  it("a redelivered click is acknowledged and skipped", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: dave });
    const responseUrl = world.fake.newResponseUrl({
      kind: "actions",
      channelId: channel,
      userId: ann.id,
      messageTs: ts,
    });
    const input = {
      userId: ann.id,
      actionId: ACTION_IDS.deny,
      channelId: channel,
      messageTs: ts,
      responseUrl,
    };
    const first = await world.slack.blockAction(input);
    await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
    const retry = await redeliver(first);
    expect(retry.status).toBe(200);
    expect(skipped("click")).toBe(1);
    expect(
      world.fake.calls((c) => c.method === "response_url" && c.responseUrl === responseUrl),
    ).toHaveLength(1);
  });

  // Across replicas, the interaction log (per process) cannot help: the submission's idempotency
  // key, stored with the request, must.
  it("the same submission delivered to two replicas makes one request", async () => {
    const other = await startSlackReplica(world);
    try {
      const { view } = await openAccessModal(world, bob.id);
      const values = formValues({ flow: "s3-prod", durationSeconds: 3600, reason: "one request please" });
      const first = await world.slack.viewSubmission({
        userId: bob.id,
        view: { id: view.id, state: { values } },
      });
      await modalOutcome(world, view.id);
      world.fake.clearCalls();
      expect((await redeliver(first, { appUrl: other.url })).status).toBe(200);
      await modalOutcome(world, view.id);
      expect(await world.db.accessRequest.count({ where: { requester: { email: bob.email } } })).toBe(1);
    } finally {
      await other.stop();
    }
  });
});
