import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSlackFake } from "./server.js";
import { button, callApi, modal, section } from "./test-support.js";
import type { SlackFake, SlackView } from "./types.js";

const START = 1_700_000_000_000;
let clock = START;
let fake: SlackFake;

beforeEach(async () => {
  clock = START;
  fake = await startSlackFake({ now: () => clock, teamId: "T0TEST" });
  fake.addUser({ id: "U0ALICE", name: "alice", email: "Alice@Example.com", realName: "Alice Liddell" });
  fake.addUser({ id: "U0BOB", name: "bob", email: "bob@example.com", tz: "America/New_York" });
  fake.addUser({ id: "U0GONE", name: "gone", email: "gone@example.com", deleted: true });
  fake.addChannel({ id: "C0APPROVALS", name: "access-approvals", members: ["U0ALICE", "U0BOB"] });
  fake.addChannel({ id: "C0LOCKED", name: "locked", botIsMember: false });
  fake.addUserGroup({ id: "S0ADMINS", handle: "aws-admins", users: ["U0BOB"] });
});

afterEach(async () => {
  await fake.close();
});

describe("auth.test", () => {
  it("describes the bot and its workspace", async () => {
    const { status, body } = await callApi(fake, "auth.test");
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      url: "https://keyturn.slack.com/",
      team: "Keyturn",
      user: "keyturn",
      team_id: "T0TEST",
      user_id: fake.botUserId,
      bot_id: fake.botId,
      is_enterprise_install: false,
    });
  });
});

describe("users", () => {
  it("users.info returns the profile Keyturn maps to Identity Center", async () => {
    const { body } = await callApi(fake, "users.info", { user: "U0BOB" });
    expect(body.ok).toBe(true);
    expect(body.user).toMatchObject({
      id: "U0BOB",
      team_id: "T0TEST",
      name: "bob",
      real_name: "bob",
      deleted: false,
      is_bot: false,
      tz: "America/New_York",
      profile: { email: "bob@example.com", real_name: "bob" },
    });
    const offset = (body.user as { tz_offset: number }).tz_offset;
    expect([-18_000, -14_400]).toContain(offset);
  });

  it("users.info shows deleted users and bots as such", async () => {
    expect((await callApi(fake, "users.info", { user: "U0GONE" })).body.user).toMatchObject({
      deleted: true,
    });
    const bot = (await callApi(fake, "users.info", { user: fake.botUserId })).body.user;
    expect(bot).toMatchObject({ is_bot: true, profile: { bot_id: fake.botId } });
    expect(bot).not.toHaveProperty("profile.email");
  });

  it("users.info answers user_not_found, and invalid_arguments without a user", async () => {
    expect((await callApi(fake, "users.info", { user: "U0NOBODY" })).body).toEqual({
      ok: false,
      error: "user_not_found",
    });
    expect((await callApi(fake, "users.info")).body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: { messages: ["[ERROR] missing required field: user"] },
    });
  });

  it("users.lookupByEmail matches case-insensitively and answers users_not_found", async () => {
    const found = await callApi(fake, "users.lookupByEmail", { email: "alice@example.COM" });
    expect(found.body).toMatchObject({ ok: true, user: { id: "U0ALICE", real_name: "Alice Liddell" } });
    expect((await callApi(fake, "users.lookupByEmail", { email: "eve@example.com" })).body).toEqual({
      ok: false,
      error: "users_not_found",
    });
  });

  it("usergroups.users.list lists members and answers no_such_subteam", async () => {
    expect((await callApi(fake, "usergroups.users.list", { usergroup: "S0ADMINS" })).body).toEqual({
      ok: true,
      users: ["U0BOB"],
    });
    expect((await callApi(fake, "usergroups.users.list", { usergroup: "S0NONE" })).body).toEqual({
      ok: false,
      error: "no_such_subteam",
    });
  });
});

describe("conversations.open", () => {
  it("opens one DM per user and says so when it is already open", async () => {
    const first = await callApi(fake, "conversations.open", { users: "U0ALICE" });
    expect(first.body).toEqual({ ok: true, channel: { id: expect.stringMatching(/^D[0-9A-Z]{8}$/) } });
    const id = (first.body.channel as { id: string }).id;
    const again = await callApi(fake, "conversations.open", { users: "U0ALICE", return_im: true });
    expect(again.body).toMatchObject({
      ok: true,
      no_op: true,
      already_open: true,
      channel: { id, is_im: true, user: "U0ALICE" },
    });
    const bob = await callApi(fake, "conversations.open", { users: "U0BOB" });
    expect((bob.body.channel as { id: string }).id).not.toBe(id);
    expect(fake.dmChannelId("U0ALICE")).toBe(id);
  });

  it("answers Slack's errors for missing, unknown and deactivated users", async () => {
    expect((await callApi(fake, "conversations.open", {})).body.error).toBe("users_list_not_supplied");
    expect((await callApi(fake, "conversations.open", { users: "U0NOBODY" })).body.error).toBe(
      "user_not_found",
    );
    expect((await callApi(fake, "conversations.open", { users: "U0GONE" })).body.error).toBe("user_disabled");
    expect((await callApi(fake, "conversations.open", { channel: "D0NOTOPEN" })).body.error).toBe(
      "channel_not_found",
    );
  });
});

describe("chat.postMessage", () => {
  it("stores the message and answers with channel, ts and the echoed message", async () => {
    const blocks = [
      section("*alice* requests S3Access"),
      { type: "actions", elements: [button("approve", "r1")] },
    ];
    const { body } = await callApi(fake, "chat.postMessage", {
      channel: "C0APPROVALS",
      text: "alice requests S3Access",
      blocks,
    });
    expect(body).toMatchObject({
      ok: true,
      channel: "C0APPROVALS",
      ts: "1700000000.000000",
      message: {
        type: "message",
        text: "alice requests S3Access",
        user: fake.botUserId,
        bot_id: fake.botId,
        ts: "1700000000.000000",
        blocks,
      },
    });
    expect(body.message).not.toHaveProperty("channel");
    expect(fake.messages("C0APPROVALS")).toEqual([
      expect.objectContaining({ channel: "C0APPROVALS", ts: "1700000000.000000", blocks }),
    ]);
  });

  it("gives strictly increasing ts values, also under a frozen clock", async () => {
    const stamps: string[] = [];
    for (let i = 0; i < 3; i++) {
      stamps.push(
        String((await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: `m${i}` })).body.ts),
      );
    }
    clock += 1500;
    stamps.push(
      String((await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "later" })).body.ts),
    );
    expect(stamps).toEqual([
      "1700000000.000000",
      "1700000000.000001",
      "1700000000.000002",
      "1700000001.500000",
    ]);
    expect(fake.messages("C0APPROVALS").map((m) => m.text)).toEqual(["m0", "m1", "m2", "later"]);
  });

  it("delivers to a user id in the bot's DM and to a channel by name, and keeps thread_ts", async () => {
    const dm = await callApi(fake, "chat.postMessage", {
      channel: "U0ALICE",
      text: "Your request is pending",
    });
    expect(dm.body.channel).toBe(fake.dmChannelId("U0ALICE"));
    const byName = await callApi(fake, "chat.postMessage", {
      channel: "#access-approvals",
      text: "reply",
      thread_ts: "1700000000.000000",
    });
    expect(byName.body).toMatchObject({
      channel: "C0APPROVALS",
      message: { thread_ts: "1700000000.000000" },
    });
    expect(fake.messages(fake.dmChannelId("U0ALICE")).map((m) => m.text)).toEqual([
      "Your request is pending",
    ]);
  });

  it("answers channel_not_found, not_in_channel, no_text, invalid_blocks and msg_too_long", async () => {
    const post = async (args: Record<string, unknown>) =>
      (await callApi(fake, "chat.postMessage", args)).body;
    expect(await post({ channel: "C0UNKNOWN", text: "x" })).toEqual({
      ok: false,
      error: "channel_not_found",
    });
    expect(await post({ channel: "D0NEVEROPENED", text: "x" })).toEqual({
      ok: false,
      error: "channel_not_found",
    });
    expect(await post({ channel: "C0LOCKED", text: "x" })).toEqual({ ok: false, error: "not_in_channel" });
    expect(await post({ channel: "C0APPROVALS" })).toEqual({ ok: false, error: "no_text" });
    expect(await post({ channel: "C0APPROVALS", text: "x", blocks: [{ text: "no type" }] })).toEqual({
      ok: false,
      error: "invalid_blocks",
      response_metadata: { messages: ["[ERROR] missing required field: type [json-pointer:/blocks/0]"] },
    });
    expect((await post({ channel: "C0APPROVALS", text: "x".repeat(40_001) })).error).toBe("msg_too_long");
    expect(fake.messages()).toEqual([]);
  });
});

describe("chat.postEphemeral", () => {
  it("answers message_ts and keeps the ephemeral apart from channel messages", async () => {
    const { body } = await callApi(fake, "chat.postEphemeral", {
      channel: "C0APPROVALS",
      user: "U0ALICE",
      text: "You cannot approve your own request.",
    });
    expect(body).toEqual({ ok: true, message_ts: "1700000000.000000" });
    expect(fake.ephemeralMessages("C0APPROVALS")).toEqual([
      {
        channel: "C0APPROVALS",
        user: "U0ALICE",
        message_ts: "1700000000.000000",
        text: "You cannot approve your own request.",
        blocks: [],
        via: "chat.postEphemeral",
      },
    ]);
    expect(fake.messages("C0APPROVALS")).toEqual([]);
  });

  it("answers user_not_in_channel and channel_not_found", async () => {
    fake.addUser({ id: "U0CAROL", name: "carol", email: "carol@example.com" });
    const outsider = await callApi(fake, "chat.postEphemeral", {
      channel: "C0APPROVALS",
      user: "U0CAROL",
      text: "x",
    });
    expect(outsider.body.error).toBe("user_not_in_channel");
    const nowhere = await callApi(fake, "chat.postEphemeral", {
      channel: "C0NOPE",
      user: "U0ALICE",
      text: "x",
    });
    expect(nowhere.body.error).toBe("channel_not_found");
  });
});

describe("chat.update", () => {
  it("changes the stored message in place and marks it edited", async () => {
    const blocks = [section("pending", "status")];
    const posted = await callApi(fake, "chat.postMessage", {
      channel: "C0APPROVALS",
      text: "pending",
      blocks,
    });
    const ts = String(posted.body.ts);
    clock += 60_000;
    const approved = [section("approved by bob", "status")];
    const { body } = await callApi(fake, "chat.update", {
      channel: "C0APPROVALS",
      ts,
      text: "approved",
      blocks: approved,
    });
    expect(body).toMatchObject({
      ok: true,
      channel: "C0APPROVALS",
      ts,
      text: "approved",
      message: { blocks: approved },
    });
    expect(fake.messages("C0APPROVALS")).toEqual([
      expect.objectContaining({
        ts,
        text: "approved",
        blocks: approved,
        edited: { user: fake.botUserId, ts: "1700000060.000000" },
      }),
    ]);
  });

  it("keeps blocks that an update leaves out and removes them on an empty array", async () => {
    const blocks = [section("pending")];
    const ts = String(
      (await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "a", blocks })).body.ts,
    );
    await callApi(fake, "chat.update", { channel: "C0APPROVALS", ts, text: "b" });
    expect(fake.messages("C0APPROVALS")[0]).toMatchObject({ text: "b", blocks });
    await callApi(fake, "chat.update", { channel: "C0APPROVALS", ts, text: "c", blocks: [] });
    expect(fake.messages("C0APPROVALS")[0]).toMatchObject({ text: "c", blocks: [] });
  });

  it("answers message_not_found and channel_not_found", async () => {
    const missing = await callApi(fake, "chat.update", { channel: "C0APPROVALS", ts: "1.000001", text: "x" });
    expect(missing.body.error).toBe("message_not_found");
    const wrongChannel = await callApi(fake, "chat.update", { channel: "C0NOPE", ts: "1.000001", text: "x" });
    expect(wrongChannel.body.error).toBe("channel_not_found");
  });
});

describe("views.open and views.push", () => {
  it("opens a modal for the trigger's user and answers the stored view", async () => {
    const trigger = fake.newTriggerId("U0ALICE");
    expect(trigger).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
    const { body } = await callApi(fake, "views.open", {
      trigger_id: trigger,
      view: modal({ private_metadata: '{"flow":"s3-prod"}', external_id: "req-1" }),
    });
    expect(body.ok).toBe(true);
    const view = body.view as SlackView;
    expect(view).toMatchObject({
      id: expect.stringMatching(/^V[0-9A-Z]{8}$/),
      team_id: "T0TEST",
      type: "modal",
      callback_id: "access_request",
      private_metadata: '{"flow":"s3-prod"}',
      external_id: "req-1",
      hash: expect.stringMatching(/^1700000000\.[0-9a-f]{8}$/),
      state: { values: {} },
      previous_view_id: null,
      app_id: fake.appId,
      bot_id: fake.botId,
    });
    expect(view.root_view_id).toBe(view.id);
    expect(fake.views("U0ALICE")).toEqual([view]);
    expect(fake.views("U0BOB")).toEqual([]);
  });

  it("accepts a trigger once: reuse answers exchanged_trigger_id, a made-up one invalid_trigger_id", async () => {
    const trigger = fake.newTriggerId("U0ALICE");
    expect((await callApi(fake, "views.open", { trigger_id: trigger, view: modal() })).body.ok).toBe(true);
    expect((await callApi(fake, "views.open", { trigger_id: trigger, view: modal() })).body.error).toBe(
      "exchanged_trigger_id",
    );
    expect((await callApi(fake, "views.open", { trigger_id: "1.2.abc", view: modal() })).body.error).toBe(
      "invalid_trigger_id",
    );
    expect((await callApi(fake, "views.open", { view: modal() })).body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: { messages: ["[ERROR] missing required field: trigger_id"] },
    });
  });

  it("expires a trigger 3 s of fake time after it was issued", async () => {
    const fresh = fake.newTriggerId("U0ALICE");
    const stale = fake.newTriggerId("U0ALICE");
    clock += 3000;
    expect((await callApi(fake, "views.open", { trigger_id: fresh, view: modal() })).body.ok).toBe(true);
    clock += 1;
    expect((await callApi(fake, "views.open", { trigger_id: stale, view: modal() })).body.error).toBe(
      "expired_trigger_id",
    );
  });

  it("rejects views Slack would reject, without using up the trigger", async () => {
    const trigger = fake.newTriggerId("U0ALICE");
    const noSubmit = await callApi(fake, "views.open", {
      trigger_id: trigger,
      view: modal({ submit: undefined }),
    });
    expect(noSubmit.body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: {
        messages: ["[ERROR] submit is required when an input block is present [json-pointer:/view/submit]"],
      },
    });
    const longTitle = await callApi(fake, "views.open", {
      trigger_id: trigger,
      view: modal({ title: { type: "plain_text", text: "Request temporary AWS access" } }),
    });
    expect(longTitle.body.response_metadata).toEqual({
      messages: ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"],
    });
    const bigMetadata = await callApi(fake, "views.open", {
      trigger_id: trigger,
      view: modal({ private_metadata: "x".repeat(3001) }),
    });
    expect(bigMetadata.body.error).toBe("invalid_arguments");
    expect((await callApi(fake, "views.open", { trigger_id: trigger, view: "{not json" })).body.error).toBe(
      "invalid_arguments",
    );
    expect((await callApi(fake, "views.open", { trigger_id: trigger, view: modal() })).body.ok).toBe(true);
  });

  it("views.push stacks on the user's open modal", async () => {
    const root = (
      await callApi(fake, "views.open", { trigger_id: fake.newTriggerId("U0ALICE"), view: modal() })
    ).body.view as SlackView;
    const pushed = (
      await callApi(fake, "views.push", {
        trigger_id: fake.newTriggerId("U0ALICE"),
        view: modal({ callback_id: "pick_target" }),
      })
    ).body.view as SlackView;
    expect(pushed).toMatchObject({
      previous_view_id: root.id,
      root_view_id: root.id,
      callback_id: "pick_target",
    });
    expect(fake.views("U0ALICE").map((v) => v.callback_id)).toEqual(["access_request", "pick_target"]);
  });
});

describe("views.update", () => {
  async function open(externalId?: string): Promise<SlackView> {
    const view = modal(externalId === undefined ? {} : { external_id: externalId });
    return (await callApi(fake, "views.open", { trigger_id: fake.newTriggerId("U0ALICE"), view })).body
      .view as SlackView;
  }

  it("updates by view_id with the current hash and answers a new hash", async () => {
    const view = await open();
    const { body } = await callApi(fake, "views.update", {
      view_id: view.id,
      hash: view.hash,
      view: modal({ private_metadata: "step 2" }),
    });
    const updated = body.view as SlackView;
    expect(updated).toMatchObject({ id: view.id, private_metadata: "step 2", root_view_id: view.id });
    expect(fake.views()).toEqual([updated]);
  });

  it("updates by external_id", async () => {
    const view = await open("access-req-7");
    const { body } = await callApi(fake, "views.update", {
      external_id: "access-req-7",
      view: modal({ callback_id: "second" }),
    });
    expect(body.view).toMatchObject({ id: view.id, external_id: "access-req-7", callback_id: "second" });
  });

  it("answers hash_conflict for a stale hash, not_found for an unknown view", async () => {
    const view = await open();
    await callApi(fake, "views.update", { view_id: view.id, view: modal({ private_metadata: "v2" }) });
    const stale = await callApi(fake, "views.update", { view_id: view.id, hash: view.hash, view: modal() });
    expect(stale.body).toEqual({ ok: false, error: "hash_conflict" });
    expect(fake.views()[0]?.private_metadata).toBe("v2");
    expect((await callApi(fake, "views.update", { view_id: "V0MISSING", view: modal() })).body.error).toBe(
      "not_found",
    );
    expect((await callApi(fake, "views.update", { external_id: "nope", view: modal() })).body.error).toBe(
      "not_found",
    );
    expect((await callApi(fake, "views.update", { view: modal() })).body.error).toBe("invalid_arguments");
  });

  it("answers duplicate_external_id when a second modal claims an external id", async () => {
    await open("same");
    const second = await callApi(fake, "views.open", {
      trigger_id: fake.newTriggerId("U0ALICE"),
      view: modal({ external_id: "same" }),
    });
    expect(second.body.error).toBe("duplicate_external_id");
  });
});

describe("views.publish", () => {
  const home = (text: string) => ({ type: "home", blocks: [section(text)] });

  it("publishes Home tab versions under one view id per user", async () => {
    const first = (await callApi(fake, "views.publish", { user_id: "U0ALICE", view: home("no grants") })).body
      .view as SlackView;
    expect(first).toMatchObject({ type: "home", team_id: "T0TEST", close: null, submit: null });
    const second = (
      await callApi(fake, "views.publish", {
        user_id: "U0ALICE",
        hash: first.hash,
        view: home("1 active grant"),
      })
    ).body.view as SlackView;
    expect(second.id).toBe(first.id);
    expect(fake.homeViews("U0ALICE").map((v) => v.blocks[0]?.text)).toEqual([
      { type: "mrkdwn", text: "no grants" },
      { type: "mrkdwn", text: "1 active grant" },
    ]);
    expect(fake.homeViews("U0BOB")).toEqual([]);
    expect(fake.views()).toEqual([]);
  });

  it("answers invalid_arguments for a modal or an unknown user, and hash_conflict", async () => {
    expect((await callApi(fake, "views.publish", { user_id: "U0ALICE", view: modal() })).body.error).toBe(
      "invalid_arguments",
    );
    expect((await callApi(fake, "views.publish", { user_id: "U0NOBODY", view: home("x") })).body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: { messages: ["invalid `user_id`"] },
    });
    await callApi(fake, "views.publish", { user_id: "U0ALICE", view: home("v1") });
    const conflict = await callApi(fake, "views.publish", {
      user_id: "U0ALICE",
      hash: "1.stale",
      view: home("v2"),
    });
    expect(conflict.body.error).toBe("hash_conflict");
    expect(fake.homeViews("U0ALICE")).toHaveLength(1);
  });
});

describe("unknown methods", () => {
  it("answers unknown_method", async () => {
    const { status, body } = await callApi(fake, "chat.scheduleMessage", { channel: "C0APPROVALS" });
    expect(status).toBe(200);
    expect(body).toEqual({ ok: false, error: "unknown_method", req_method: "chat.scheduleMessage" });
  });
});
