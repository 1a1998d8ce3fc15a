import { ACTION_IDS } from "@keyturn/slack";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  APPROVAL_CHANNEL,
  clickOnMessage,
  flowRules,
  formValues,
  modalOutcome,
  openAccessModal,
  PEOPLE,
  PORTAL_URL,
  textOf,
  useSlackWorld,
} from "./test-support.js";

const world = useSlackWorld();
const { alice, ann } = PEOPLE;

beforeAll(async () => {
  await world.putFlow("s3-prod", flowRules());
});

function buttonsOf(blocks: unknown): string[] {
  const ids: string[] = [];
  for (const block of (blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }> }>) {
    if (block.type === "actions") {
      ids.push(...(block.elements ?? []).flatMap((e) => (e.action_id === undefined ? [] : [e.action_id])));
    }
  }
  return ids;
}

describe("the whole lifecycle over Slack", () => {
  it("requests, approves, grants, tells the requester how to use it, revokes and removes it", async () => {
    const { fake, db, emulator } = world;

    // /access with text pre-fills the modal.
    const { delivery, view } = await openAccessModal(
      world,
      alice.id,
      "s3-prod 2h INC-42 restore the orders table",
    );
    expect(delivery.status).toBe(200);
    const modal = textOf(view.blocks);
    expect(modal).toContain('"initial_value":"INC-42 restore the orders table"');
    expect(modal).toContain('"initial_value":"INC-42"');
    expect(modal).toMatch(/"initial_option":\{"text":\{"type":"plain_text","text":"2h"/);

    // Submit: the modal turns into a note, the request is made after the ack.
    const submitted = await world.slack.viewSubmission({
      userId: alice.id,
      view: {
        id: view.id,
        state: {
          values: formValues({
            flow: "s3-prod",
            durationSeconds: 7200,
            reason: "INC-42 restore the orders table",
            ticket: "INC-42",
          }),
        },
      },
    });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({ response_action: "update" });
    expect(textOf((await modalOutcome(world, view.id)).args.view)).toContain("Requested");
    const request = await db.accessRequest.findFirstOrThrow({ where: { requester: { email: alice.email } } });
    expect(request).toMatchObject({
      status: "pending",
      source: "slack",
      durationSeconds: 7200,
      ticket: "INC-42",
    });

    // The worker's turn: the approval message with buttons, and a DM to the requester.
    expect((await world.pump()).failed).toEqual([]);
    const [posted] = fake.calls(
      (c) => c.method === "chat.postMessage" && c.args.channel === APPROVAL_CHANNEL,
    );
    expect(posted?.response.ok).toBe(true);
    expect(buttonsOf(posted?.args.blocks)).toEqual([ACTION_IDS.approve, ACTION_IDS.deny]);
    expect(textOf(posted?.args.blocks)).toContain("0 of 1 approval");
    const ts = String(posted?.response.ts);
    const stored = await db.slackMessage.findUniqueOrThrow({
      where: { requestId_kind: { requestId: request.id, kind: "approval" } },
    });
    expect(stored).toMatchObject({ channel: APPROVAL_CHANNEL, ts });
    const dm = fake.dmChannelId(alice.id);
    expect(fake.calls("conversations.open").some((c) => c.args.users === alice.id)).toBe(true);
    const pendingDm = fake.messages(dm).at(-1);
    expect(pendingDm?.text).toContain("is waiting for approval");
    expect(buttonsOf(pendingDm?.blocks)).toEqual([ACTION_IDS.cancel]);

    // An approver clicks Approve; the clicker alone is told it worked.
    const approve = await clickOnMessage(world, {
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: APPROVAL_CHANNEL,
      messageTs: ts,
    });
    expect(approve.delivery.status).toBe(200);
    expect(approve.reply).toContain("You approved");
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe("approved");

    // The worker grants it in AWS (the emulator holds the assignment) and notifies.
    fake.clearCalls();
    const granted = await world.pump();
    expect(granted.failed).toEqual([]);
    expect(granted.processed.map((p) => p.topic)).toContain("assignment.reconcile");
    const assignment = {
      accountId: ACCOUNT,
      permissionSetArn: world.permissionSetArns.S3Access,
      principalType: "USER",
      principalId: world.idcUsers.alice,
    };
    expect(emulator.assignments()).toContainEqual(expect.objectContaining(assignment));
    const active = await db.accessRequest.findUniqueOrThrow({ where: { id: request.id } });
    expect(active.status).toBe("active");

    // The channel message is updated in place, on the same ts.
    const updates = fake.calls((c) => c.method === "chat.update" && c.args.channel === APPROVAL_CHANNEL);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((c) => c.args.ts === ts && c.response.ok === true)).toBe(true);
    expect(fake.messages(APPROVAL_CHANNEL)).toHaveLength(1);
    const channelNow = fake.messages(APPROVAL_CHANNEL)[0];
    expect(textOf(channelNow?.blocks)).toContain("Active");
    expect(textOf(channelNow?.blocks)).toContain(`Approved by <@${ann.id}>`);
    expect(buttonsOf(channelNow?.blocks)).toEqual([ACTION_IDS.revoke]);

    // The ACTIVE DM says exactly how to use the access.
    const activeDm = fake.messages(dm).find((m) => m.text.includes("is active"));
    expect(activeDm).toBeDefined();
    const howTo = textOf(activeDm?.blocks);
    expect(howTo).toContain(`<${PORTAL_URL}|AWS access portal>`);
    for (const line of [
      `[profile keyturn-${ACCOUNT}-S3Access]`,
      "sso_session = keyturn",
      `sso_account_id = ${ACCOUNT}`,
      "sso_role_name = S3Access",
      "region = eu-west-1",
      "[sso-session keyturn]",
      `sso_start_url = ${PORTAL_URL}`,
      "sso_region = eu-west-1",
    ]) {
      expect(howTo).toContain(line);
    }
    const expiresEpoch = Math.floor((active.expiresAt?.getTime() ?? 0) / 1000);
    expect(howTo).toContain(`<!date^${expiresEpoch}^{date_short_pretty} {time}|`);
    expect(buttonsOf(activeDm?.blocks)).toEqual([ACTION_IDS.extend, ACTION_IDS.revoke]);
    // The pending DM lost its Cancel button.
    expect(buttonsOf(fake.messages(dm).find((m) => m.ts === pendingDm?.ts)?.blocks)).toEqual([]);

    // The requester revokes early from the DM.
    const revoke = await clickOnMessage(world, {
      userId: alice.id,
      actionId: ACTION_IDS.revoke,
      channelId: dm,
      messageTs: String(activeDm?.ts),
    });
    expect(revoke.reply).toContain("You revoked");
    fake.clearCalls();
    expect((await world.pump()).failed).toEqual([]);
    expect(emulator.assignments()).not.toContainEqual(expect.objectContaining(assignment));
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe("revoked");
    const channelEnd = fake.messages(APPROVAL_CHANNEL)[0];
    expect(channelEnd?.ts).toBe(ts);
    expect(textOf(channelEnd?.blocks)).toContain(`Revoked by <@${alice.id}>`);
    expect(buttonsOf(channelEnd?.blocks)).toEqual([]);
    expect(fake.messages(dm).at(-1)?.text).toContain("was revoked");
    expect(buttonsOf(fake.messages(dm).find((m) => m.ts === activeDm?.ts)?.blocks)).toEqual([]);
  });
});
