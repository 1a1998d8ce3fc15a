import { ACTION_IDS } from "@keyturn/slack";
import { beforeAll, describe, expect, it } from "vitest";
import { clickOnMessage, flowRules, PEOPLE, pendingRequest, textOf, useSlackWorld } from "./test-support.js";

const world = useSlackWorld();
const { alice, ann, carol, mallory } = PEOPLE;

beforeAll(async () => {
  await world.putFlow("s3-prod", flowRules());
});

async function openHome(userId: string) {
  const before = world.fake.homeViews(userId).length;
  const response = await world.sendEvent({
    type: "app_home_opened",
    user: userId,
    channel: world.fake.dmChannelId(userId),
    tab: "home",
  });
  expect(response.status).toBe(200);
  await world.fake.waitForCall(
    "views.publish",
    (c) => c.args.user_id === userId && world.fake.homeViews(userId).length > before,
  );
  const home = world.fake.homeViews(userId).at(-1);
  if (home === undefined) {
    throw new Error("no Home view published");
  }
  return home;
}

function buttons(home: { blocks: unknown }) {
  return (
    (home.blocks ?? []) as Array<{
      type: string;
      block_id?: string;
      elements?: Array<{ action_id?: string; value?: string }>;
      accessory?: { action_id?: string; value?: string };
    }>
  ).flatMap((b) => {
    const elements =
      b.type === "actions" ? (b.elements ?? []) : b.accessory === undefined ? [] : [b.accessory];
    return elements.map((e) => ({ action: e.action_id, value: e.value }));
  });
}

describe("the App Home", () => {
  it("shows my active access with time left and Revoke, and my pending requests with Cancel", async () => {
    const active = await pendingRequest(world, { flow: "s3-prod", by: alice });
    await clickOnMessage(world, {
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: active.channel,
      messageTs: active.ts,
    });
    expect((await world.pump()).failed).toEqual([]);
    const pending = await pendingRequest(world, { flow: "s3-prod", by: alice, reason: "second look" });

    const home = await openHome(alice.id);
    const text = textOf(home.blocks);
    expect(text).toContain("Your access");
    expect(text).toMatch(
      /:large_green_circle: Active · `S3Access` in account `111122223333` · (59m|1h) left, until <!date\^/,
    );
    expect(buttons(home)).toEqual(
      expect.arrayContaining([
        { action: ACTION_IDS.openRequestModal, value: "home" },
        { action: ACTION_IDS.extend, value: active.requestId },
        { action: ACTION_IDS.revoke, value: active.requestId },
        { action: ACTION_IDS.cancel, value: pending.requestId },
      ]),
    );
    expect(text).not.toContain("Waiting for your review");
  });

  it("shows approvers the requests waiting on them, and a click there decides and refreshes it", async () => {
    const waiting = await pendingRequest(world, { flow: "s3-prod", by: carol, reason: "<!here> check" });
    const home = await openHome(ann.id);
    const text = textOf(home.blocks);
    expect(text).toContain("Waiting for your review");
    expect(text).toContain(`<@${carol.id}> asks for`);
    expect(text).toContain('"type":"plain_text","text":"Reason: <!here> check"');
    expect(buttons(home)).toEqual(
      expect.arrayContaining([
        { action: ACTION_IDS.approve, value: waiting.requestId },
        { action: ACTION_IDS.deny, value: waiting.requestId },
      ]),
    );

    const published = world.fake.homeViews(ann.id).length;
    const click = await world.slack.blockAction({
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      value: waiting.requestId,
      view: { id: home.id },
    });
    expect(click.status).toBe(200);
    await world.fake.waitForCall(
      "views.publish",
      (c) => c.args.user_id === ann.id && world.fake.homeViews(ann.id).length > published,
    );
    expect(
      (await world.db.accessRequest.findUniqueOrThrow({ where: { id: waiting.requestId } })).status,
    ).toBe("approved");
    expect(textOf(world.fake.homeViews(ann.id).at(-1)?.blocks)).not.toContain(waiting.requestId);
  });

  it("shows someone who may not approve nothing to review", async () => {
    await pendingRequest(world, { flow: "s3-prod", by: carol });
    const home = await openHome(mallory.id);
    expect(textOf(home.blocks)).not.toContain("Waiting for your review");
  });
});
