import { ACTION_IDS } from "@keyturn/slack";
import { createCliSignIn, redeemCliSignIn } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { clickOnMessage, expectUnchanged, PEOPLE, textOf, useSlackWorld } from "./test-support.js";

// `keyturn login`'s Slack half, through the real app over HTTP and the fake Slack: the worker's
// notifier DMs the person the code and host with Approve / Reject; their click (and only theirs)
// decides; the answer replaces the buttons; the CLI's poll then gets a token, or a refusal.

const world = useSlackWorld();
const { alice, bob, mallory } = PEOPLE;

async function signInFor(input: { email?: string; slackUserId?: string }) {
  const started = await createCliSignIn(world.usecases, { ...input, host: "build-box-7" });
  if (!started.ok) {
    throw new Error(started.error.message);
  }
  const report = await world.pump();
  expect(report.failed).toEqual([]);
  const row = await world.db.cliSignIn.findUniqueOrThrow({ where: { id: started.value.id } });
  if (row.dmChannel === null || row.dmTs === null) {
    throw new Error("no DM was posted");
  }
  return { ...started.value, channel: row.dmChannel, ts: row.dmTs };
}

function dmOf(signIn: { channel: string; ts: string }) {
  const message = world.fake.messages(signIn.channel).find((m) => m.ts === signIn.ts);
  if (message === undefined) {
    throw new Error("the DM is not in the fake Slack");
  }
  return message;
}

describe("keyturn login in Slack", () => {
  it("DMs the person (by email) the host and code; their Approve hands the CLI its token once", async () => {
    const signIn = await signInFor({ email: alice.email });
    expect(signIn.channel).toBe(world.fake.dmChannelId(alice.id));
    const asked = dmOf(signIn);
    expect(asked.text).toContain(`Sign in to the Keyturn CLI on build-box-7? Code ${signIn.code}`);
    expect(textOf(asked.blocks)).toContain(ACTION_IDS.approveSignIn);
    expect(textOf(asked.blocks)).toContain(ACTION_IDS.rejectSignIn);
    // A second delivery of the job does not DM again.
    await world.db.outboxMessage.updateMany({ where: { topic: "signin.notify" }, data: { sentAt: null } });
    await world.pump();
    expect(world.fake.messages(signIn.channel).filter((m) => m.text.includes(signIn.code))).toHaveLength(1);

    expect(await redeemCliSignIn(world.usecases, { handle: signIn.handle })).toMatchObject({
      ok: true,
      value: { status: "pending" },
    });
    await clickOnMessage(world, {
      userId: alice.id,
      actionId: ACTION_IDS.approveSignIn,
      channelId: signIn.channel,
      messageTs: signIn.ts,
    });
    const answered = dmOf(signIn);
    expect(answered.text).toContain(signIn.code);
    expect(textOf(answered.blocks)).toContain("You approved this sign-in");
    expect(textOf(answered.blocks)).not.toContain(ACTION_IDS.approveSignIn);

    const redeemed = await redeemCliSignIn(world.usecases, { handle: signIn.handle });
    if (!redeemed.ok || redeemed.value.status !== "approved") {
      throw new Error(`expected a token, got ${JSON.stringify(redeemed)}`);
    }
    expect(redeemed.value.record).toMatchObject({ owner: alice.email, ownerKind: "person" });
    const row = await world.db.cliSignIn.findUniqueOrThrow({ where: { id: signIn.id } });
    expect(row).toMatchObject({
      status: "redeemed",
      slackUserId: alice.id,
      tokenId: redeemed.value.record.id,
    });
    expect(await redeemCliSignIn(world.usecases, { handle: signIn.handle })).toMatchObject({
      ok: false,
      error: { code: "SIGN_IN_REDEEMED" },
    });
    const approved = await world.db.auditEvent.findFirstOrThrow({ where: { action: "signin.approved" } });
    expect(approved).toMatchObject({ actorType: "identity", actorId: alice.email });
  });

  it("Reject (by Slack user id) ends it: the poll is refused and no token exists", async () => {
    const signIn = await signInFor({ slackUserId: bob.id });
    expect(signIn.channel).toBe(world.fake.dmChannelId(bob.id));
    const tokensBefore = await world.db.apiToken.count();
    await clickOnMessage(world, {
      userId: bob.id,
      actionId: ACTION_IDS.rejectSignIn,
      channelId: signIn.channel,
      messageTs: signIn.ts,
    });
    expect(textOf(dmOf(signIn).blocks)).toContain("You rejected this sign-in");
    expect(await redeemCliSignIn(world.usecases, { handle: signIn.handle })).toMatchObject({
      ok: false,
      error: { code: "SIGN_IN_REJECTED" },
    });
    expect(await world.db.apiToken.count()).toBe(tokensBefore);
    expect(await world.db.auditEvent.count({ where: { action: "signin.rejected" } })).toBe(1);
  });

  it("a click by anyone else is refused to them alone and changes nothing", async () => {
    const signIn = await signInFor({ email: alice.email });
    const { reply } = await expectUnchanged(world, () =>
      clickOnMessage(world, {
        userId: mallory.id,
        actionId: ACTION_IDS.approveSignIn,
        channelId: signIn.channel,
        messageTs: signIn.ts,
      }),
    );
    expect(reply).toContain("someone else's");
    expect(textOf(dmOf(signIn).blocks)).toContain(ACTION_IDS.approveSignIn);
    expect(await redeemCliSignIn(world.usecases, { handle: signIn.handle })).toMatchObject({
      ok: true,
      value: { status: "pending" },
    });
  });

  it("a click after the sign-in expired replaces the buttons with the expiry and mints nothing", async () => {
    const signIn = await signInFor({ email: alice.email });
    await world.db.cliSignIn.update({
      where: { id: signIn.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await clickOnMessage(world, {
      userId: alice.id,
      actionId: ACTION_IDS.approveSignIn,
      channelId: signIn.channel,
      messageTs: signIn.ts,
    });
    expect(textOf(dmOf(signIn).blocks)).toContain("This sign-in expired unanswered");
    expect(textOf(dmOf(signIn).blocks)).not.toContain(ACTION_IDS.approveSignIn);
    expect((await world.db.cliSignIn.findUniqueOrThrow({ where: { id: signIn.id } })).status).toBe("pending");
    expect(await redeemCliSignIn(world.usecases, { handle: signIn.handle })).toMatchObject({
      ok: false,
      error: { code: "SIGN_IN_EXPIRED" },
    });
  });

  it("nobody in Slack has the email: no DM, the sign-in fails at once (audited) and the poll says why", async () => {
    const started = await createCliSignIn(world.usecases, {
      email: "nobody@example.com",
      host: "build-box-7",
    });
    if (!started.ok) {
      throw new Error(started.error.message);
    }
    world.fake.clearCalls();
    expect((await world.pump()).failed).toEqual([]);
    expect(world.fake.calls("chat.postMessage")).toEqual([]);
    const row = await world.db.cliSignIn.findUniqueOrThrow({ where: { id: started.value.id } });
    expect(row.status).toBe("undeliverable");
    expect(await world.db.auditEvent.count({ where: { action: "signin.undeliverable" } })).toBe(1);
    const polled = await redeemCliSignIn(world.usecases, { handle: started.value.handle });
    expect(polled).toMatchObject({ ok: false, error: { code: "SIGN_IN_UNDELIVERABLE" } });
    expect(polled.ok ? "" : polled.error.message).toContain("nobody@example.com");
  });
});
