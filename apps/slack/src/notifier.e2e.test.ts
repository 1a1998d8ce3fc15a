import { randomUUID } from "node:crypto";
import { SlackCallError } from "@keyturn/slack";
import { AppError } from "@keyturn/usecases";
import { beforeAll, describe, expect, it } from "vitest";
import {
  APPROVAL_CHANNEL,
  flowRules,
  PEOPLE,
  pendingRequest,
  submitAsSlackUser,
  textOf,
  useSlackWorld,
} from "./test-support.js";

const world = useSlackWorld();
const { alice, carol, dave } = PEOPLE;

beforeAll(async () => {
  world.fake.addChannel({ id: "C0PRIVATE", name: "secret-approvals", botIsMember: false });
  await world.putFlow("s3-prod", flowRules());
  await world.putFlow("hidden", flowRules({ title: "Hidden", approvalChannel: "C0PRIVATE" }));
  await world.putFlow("nowhere", flowRules({ title: "Nowhere", approvalChannel: "C0NOWHERE" }));
});

async function approvalRow(requestId: string) {
  return world.db.slackMessage.findUnique({ where: { requestId_kind: { requestId, kind: "approval" } } });
}

function messagesAbout(channel: string, requestId: string) {
  return world.fake.messages(channel).filter((m) => textOf(m.blocks).includes(requestId));
}

describe("Slack failures retry through the outbox and lose nothing", () => {
  it("rate limited: a retryable AppError carrying Retry-After, then the next pump posts once", async () => {
    const requestId = await submitAsSlackUser(world, { flow: "s3-prod", by: alice });
    world.fake.failNext("chat.postMessage", { error: "ratelimited", retryAfterSeconds: 1 });
    const first = await world.pump();
    expect(first.failed).toHaveLength(1);
    const failure = first.failed[0]?.error;
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: "SLACK_RATE_LIMITED", retryable: true, retryAfterSeconds: 1 });
    const [row] = await world.db.outboxMessage.findMany({ where: { topic: "request.notify", sentAt: null } });
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toBe("Slack rate-limited chat.postMessage; retry after 1s");
    // The claim was given back: the retry posts instead of waiting for it to go stale.
    expect(await approvalRow(requestId)).toBeNull();

    const retried = await world.pump();
    expect(retried.failed).toEqual([]);
    expect(messagesAbout(APPROVAL_CHANNEL, requestId)).toHaveLength(1);
    expect(messagesAbout(world.fake.dmChannelId(alice.id), requestId)).toHaveLength(1);
  });

  it("the error is what the worker needs: a retryable AppError with the wait", async () => {
    const { requestId } = await pendingRequest(world, { flow: "s3-prod", by: carol });
    world.fake.failNext("chat.update", { error: "ratelimited", retryAfterSeconds: 7 });
    const error = await world.notifier
      .notify({ requestId, event: "RequestSubmitted", auditEventId: randomUUID() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toBeInstanceOf(SlackCallError);
    expect(error).toMatchObject({
      code: "SLACK_RATE_LIMITED",
      retryable: true,
      retryAfterSeconds: 7,
      message: "Slack rate-limited chat.update; retry after 7s",
    });
  });

  it("Slack's 5xx is retryable too", async () => {
    const { requestId } = await pendingRequest(world, { flow: "s3-prod", by: dave });
    world.fake.failNext("chat.update", { error: "internal_error", status: 503 });
    const error = await world.notifier
      .notify({ requestId, event: "RequestSubmitted", auditEventId: randomUUID() })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SLACK_UNAVAILABLE", retryable: true });
  });
});

describe("permanent Slack refusals say what to fix and still tell the requester", () => {
  it("the bot is not in the approval channel", async () => {
    await expect(pendingRequest(world, { flow: "hidden", by: alice })).rejects.toThrow(/pump failed/);
    const [row] = await world.db.outboxMessage.findMany({
      where: { topic: "request.notify", sentAt: null },
      orderBy: { createdAt: "desc" },
    });
    expect(row?.lastError).toBe(
      "Slack chat.postMessage: Keyturn's bot is not a member of channel C0PRIVATE; invite it there with /invite @Keyturn",
    );
    const requestId = String((row?.payload as { requestId?: string } | undefined)?.requestId);
    const error = await world.notifier
      .notify({ requestId, event: "RequestSubmitted", auditEventId: randomUUID() })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SLACK_REFUSED", retryable: false, slackError: "not_in_channel" });
    // The DM went out anyway, once.
    expect(messagesAbout(world.fake.dmChannelId(alice.id), requestId)).toHaveLength(1);
    await world.db.outboxMessage.updateMany({ where: { sentAt: null }, data: { sentAt: new Date() } });
  });

  it("the approval channel does not exist", async () => {
    await expect(pendingRequest(world, { flow: "nowhere", by: alice })).rejects.toThrow(/pump failed/);
    const [row] = await world.db.outboxMessage.findMany({
      where: { topic: "request.notify", sentAt: null },
    });
    expect(row?.lastError).toContain("channel C0NOWHERE not found; check the flow's approvalChannel");
    await world.db.outboxMessage.updateMany({ where: { sentAt: null }, data: { sentAt: new Date() } });
  });
});

describe("delivered twice, the notifier converges instead of duplicating", () => {
  it("one channel message updated in place, one DM per step", async () => {
    const { requestId, ts } = await pendingRequest(world, { flow: "s3-prod", by: carol });
    world.fake.clearCalls();
    const notification = { requestId, event: "RequestSubmitted", auditEventId: randomUUID() };
    await world.notifier.notify(notification);
    await Promise.all(
      [world.notifier.notify(notification), world.notifier.notify(notification)].map((p) =>
        p.catch((e: unknown) => e),
      ),
    );
    expect(world.fake.calls("chat.postMessage")).toEqual([]);
    expect(
      world.fake.calls("chat.update").every((c) => c.args.ts === ts || c.args.channel !== APPROVAL_CHANNEL),
    ).toBe(true);
    expect(messagesAbout(APPROVAL_CHANNEL, requestId)).toHaveLength(1);
    expect(messagesAbout(world.fake.dmChannelId(carol.id), requestId)).toHaveLength(1);
  });

  it("a claim left by a delivery that died before posting is taken over once stale", async () => {
    const { requestId } = await pendingRequest(world, { flow: "s3-prod", by: dave });
    // As if a delivery claimed the "approved" DM and died before posting it.
    const kind = "requester:approved";
    const stale = new Date(Date.now() - 10 * 60_000);
    await world.db.slackMessage.create({
      data: { id: randomUUID(), requestId, kind, channel: "D0", ts: "", createdAt: stale, updatedAt: stale },
    });
    await world.db.accessRequest.update({
      where: { id: requestId },
      data: { status: "approved", decidedAt: new Date() },
    });
    await world.notifier.notify({ requestId, event: "RequestApproved", auditEventId: randomUUID() });
    const row = await world.db.slackMessage.findUniqueOrThrow({
      where: { requestId_kind: { requestId, kind } },
    });
    expect(row.ts).not.toBe("");
    expect(row.channel).toBe(world.fake.dmChannelId(dave.id));
  });

  it("a fresh claim means another delivery is posting: retry later, do not post twice", async () => {
    const { requestId } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const kind = "requester:denied";
    await world.db.slackMessage.create({
      data: {
        id: randomUUID(),
        requestId,
        kind,
        channel: "D0",
        ts: "",
        createdAt: new Date(),
        updatedAt: new Date(),
      },
    });
    await world.db.accessRequest.update({
      where: { id: requestId },
      data: { status: "denied", decidedAt: new Date() },
    });
    world.fake.clearCalls();
    const error = await world.notifier
      .notify({ requestId, event: "RequestDenied", auditEventId: randomUUID() })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SLACK_MESSAGE_IN_PROGRESS", retryable: true });
    expect(
      world.fake.calls((c) => c.method === "chat.postMessage" && c.args.channel !== APPROVAL_CHANNEL),
    ).toEqual([]);
  });
});

describe("user text cannot inject mrkdwn", () => {
  it("a reason full of mentions and links renders as plain text", async () => {
    const reason = "<!channel> *bold* <@U123> <http://evil.example|click me> @here";
    const { requestId } = await pendingRequest(world, { flow: "s3-prod", by: carol, reason });
    const posted = world.fake.calls(
      (c) => c.method === "chat.postMessage" && textOf(c.args.blocks).includes(requestId),
    );
    expect(posted.length).toBeGreaterThanOrEqual(2);
    for (const call of posted) {
      const blocks = call.args.blocks as Array<Record<string, unknown>>;
      // The reason appears verbatim, but only inside plain_text objects...
      const reasonBlock = blocks.find((b) => textOf(b).includes("*bold*"));
      expect(reasonBlock?.text).toEqual({ type: "plain_text", text: `Reason: ${reason}`, emoji: false });
      // ...and in no mrkdwn text nor in the notification text.
      const mrkdwn = JSON.stringify(blocks.filter((b) => b !== reasonBlock));
      for (const needle of ["<!channel>", "<@U123>", "<http://evil", "evil.example"]) {
        expect(mrkdwn).not.toContain(needle);
        expect(String(call.args.text)).not.toContain(needle);
      }
    }
  });
});
