import { ACTION_IDS } from "@keyturn/slack";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  APPROVAL_CHANNEL,
  clickOnMessage,
  flowRules,
  formValues,
  modalOutcome,
  OPS_GROUP,
  openAccessModal,
  PEOPLE,
  pendingRequest,
  textOf,
  useSlackWorld,
} from "./test-support.js";

const world = useSlackWorld();
const { alice, ann, bob, carol, dave } = PEOPLE;

beforeAll(async () => {
  await world.putFlow("s3-prod", flowRules());
  await world.putFlow("s3-two", flowRules({ title: "Two keys", approvalsRequired: 2 }));
  await world.putFlow(
    "break-glass",
    flowRules({
      title: "Break glass: production admin",
      targets: [{ accountId: ACCOUNT, permissionSetName: "AdministratorAccess" }],
      approvers: [{ kind: "slack_group", id: OPS_GROUP }],
      breakGlass: true,
      maxDurationSeconds: 3600,
    }),
  );
});

function channelMessage(ts: string) {
  return world.fake.messages(APPROVAL_CHANNEL).find((m) => m.ts === ts);
}

function buttonsOf(blocks: unknown): string[] {
  return ((blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }> }>)
    .filter((b) => b.type === "actions")
    .flatMap((b) => (b.elements ?? []).flatMap((e) => (e.action_id === undefined ? [] : [e.action_id])));
}

describe("break-glass", () => {
  it("activates at once and posts a loud alert that asks for a review", async () => {
    const { view } = await openAccessModal(world, carol.id, "break-glass 1h prod is down");
    const submitted = await world.slack.viewSubmission({
      userId: carol.id,
      view: {
        id: view.id,
        state: { values: formValues({ flow: "break-glass", durationSeconds: 3600, reason: "prod is down" }) },
      },
    });
    expect(submitted.json).toMatchObject({ response_action: "update" });
    expect(textOf((await modalOutcome(world, view.id)).args.view)).toContain("Approved");
    const request = await world.db.accessRequest.findFirstOrThrow({
      where: { flowName: "break-glass", requester: { email: carol.email } },
    });
    expect(request).toMatchObject({ status: "approved", breakGlass: true });

    expect((await world.pump()).failed).toEqual([]);
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe(
      "active",
    );
    expect(world.emulator.assignments()).toContainEqual(
      expect.objectContaining({ accountId: ACCOUNT, principalId: world.idcUsers.carol }),
    );
    const alert = await world.db.slackMessage.findUniqueOrThrow({
      where: { requestId_kind: { requestId: request.id, kind: "alert" } },
    });
    expect(alert.channel).toBe(APPROVAL_CHANNEL);
    const posted = channelMessage(alert.ts);
    expect(posted?.text).toContain("<!here>");
    expect(posted?.text).toContain(`Break-glass: <@${carol.id}> took AdministratorAccess`);
    expect(textOf(posted?.blocks)).toContain("Approvers: please review it now.");
    expect(buttonsOf(posted?.blocks)).toEqual([ACTION_IDS.revoke]);
    // Posted once, however many notifications the activation caused.
    expect(
      world.fake.calls(
        (c) => c.method === "chat.postMessage" && textOf(c.args).includes("Break-glass access used"),
      ),
    ).toHaveLength(1);
  });
});

describe("thresholds, denials, cancellations and extensions", () => {
  it("shows 1 of 2 approvals until the second approver decides", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-two", by: dave });
    const first = await clickOnMessage(world, {
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: channel,
      messageTs: ts,
    });
    expect(first.reply).toContain("1 of 2 approvals, it needs another approver");
    expect((await world.pump()).failed).toEqual([]);
    expect(textOf(channelMessage(ts)?.blocks)).toContain(`1 of 2 approvals: <@${ann.id}>`);
    expect(buttonsOf(channelMessage(ts)?.blocks)).toEqual([ACTION_IDS.approve, ACTION_IDS.deny]);
    const again = await clickOnMessage(world, {
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: channel,
      messageTs: ts,
    });
    expect(again.reply).toBe("You have already reviewed this request; it needs another approver now.");
    const second = await clickOnMessage(world, {
      userId: bob.id,
      actionId: ACTION_IDS.approve,
      channelId: channel,
      messageTs: ts,
    });
    expect(second.reply).toContain("Keyturn is granting the access now");
    expect((await world.pump()).failed).toEqual([]);
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "active",
    );
    expect(textOf(channelMessage(ts)?.blocks)).toContain(`Approved by <@${ann.id}>, <@${bob.id}>`);
  });

  it("a denial updates the message and tells the requester", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: carol });
    const deny = await clickOnMessage(world, {
      userId: bob.id,
      actionId: ACTION_IDS.deny,
      channelId: channel,
      messageTs: ts,
    });
    expect(deny.reply).toContain("You denied");
    expect((await world.pump()).failed).toEqual([]);
    expect(textOf(channelMessage(ts)?.blocks)).toContain(`Denied by <@${bob.id}>`);
    expect(buttonsOf(channelMessage(ts)?.blocks)).toEqual([]);
    const denied = await world.db.slackMessage.findUniqueOrThrow({
      where: { requestId_kind: { requestId, kind: "requester:denied" } },
    });
    const dm = world.fake.messages(world.fake.dmChannelId(carol.id)).find((m) => m.ts === denied.ts);
    expect(dm?.text).toContain("was denied");
  });

  it("the requester cancels while pending; nobody else can", async () => {
    const { requestId, ts } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const dm = world.fake.dmChannelId(alice.id);
    const pendingDm = world.fake.messages(dm).findLast((m) => textOf(m.blocks).includes(requestId));
    const other = await clickOnMessage(world, {
      userId: bob.id,
      actionId: ACTION_IDS.cancel,
      channelId: dm,
      messageTs: String(pendingDm?.ts),
    });
    expect(other.reply).toBe("You may not do that: only the requester can cancel a pending request.");
    const own = await clickOnMessage(world, {
      userId: alice.id,
      actionId: ACTION_IDS.cancel,
      channelId: dm,
      messageTs: String(pendingDm?.ts),
    });
    expect(own.reply).toContain("You cancelled your request");
    expect((await world.pump()).failed).toEqual([]);
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "cancelled",
    );
    expect(textOf(channelMessage(ts)?.blocks)).toContain(`Cancelled by <@${alice.id}>`);
  });

  it("the requester extends active access once, where the flow allows", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: dave });
    await clickOnMessage(world, {
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: channel,
      messageTs: ts,
    });
    expect((await world.pump()).failed).toEqual([]);
    const before = await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
    const dm = world.fake.dmChannelId(dave.id);
    const activeDm = world.fake.messages(dm).findLast((m) => m.text.includes("is active"));
    const extend = await clickOnMessage(world, {
      userId: dave.id,
      actionId: ACTION_IDS.extend,
      channelId: dm,
      messageTs: String(activeDm?.ts),
    });
    expect(extend.reply).toContain("until <!date^");
    expect((await world.pump()).failed).toEqual([]);
    const after = await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(after.expiresAt?.getTime()).toBe((before.expiresAt?.getTime() ?? 0) + 3600_000);
    const extendedDm = world.fake.messages(dm).at(-1);
    expect(extendedDm?.text).toContain("is active");
    expect(textOf(extendedDm?.blocks)).toContain("(extended 1×)");
    // The flow allows one extension: the button is gone, and a second click says why.
    expect(buttonsOf(extendedDm?.blocks)).toEqual([ACTION_IDS.revoke]);
    // A stale client that still shows the old button (the click carries the request id).
    const twice = await clickOnMessage(world, {
      userId: dave.id,
      actionId: ACTION_IDS.extend,
      channelId: dm,
      messageTs: String(activeDm?.ts),
      value: requestId,
    });
    expect(twice.reply).toContain("No more extensions");
  });
});
