import { createRedisConnection } from "@keyturn/queue";
import { ACTION_IDS } from "@keyturn/slack";
import { beforeAll, describe, expect, it } from "vitest";
import { STALE_BUTTON_TEXT } from "./listeners/actions/unknown-action.js";
import { createRedisReplayMemory, DEFAULT_BODY_LIMIT_BYTES } from "./request-guard.js";
import {
  expectUnchanged,
  flowRules,
  formValues,
  openAccessModal,
  PEOPLE,
  pendingRequest,
  rawHttpExchange,
  startSlackReplica,
  useSlackWorld,
} from "./test-support.js";

// The Slack endpoint as a hostile client meets it, over real sockets against the real app (Bolt's
// HTTP receiver behind Keyturn's request guard), with the replay memory in the real Redis. Every
// refusal is checked against the row counts of every table and against what Slack was asked to do.

const world = useSlackWorld();
const { alice, ann, carol } = PEOPLE;

beforeAll(async () => {
  await world.putFlow("s3-prod", flowRules({ reason: { required: true } }));
});

const unchanged = <T>(act: () => Promise<T>) => expectUnchanged(world, act);

describe("unsigned and oversized requests", () => {
  it("100 unsigned uploads that never finish are each refused (401) before their body is read", async () => {
    world.fake.clearCalls();
    const attempts = await unchanged(() =>
      Promise.all(
        Array.from({ length: 100 }, () =>
          rawHttpExchange(
            world.appUrl,
            {
              "content-type": "application/x-www-form-urlencoded",
              "content-length": String(4 * 1024 * 1024),
            },
            [Buffer.alloc(16 * 1024, 0x61)],
          ),
        ),
      ),
    );
    expect(new Set(attempts.map((a) => a.status))).toEqual(new Set(["HTTP/1.1 401 Unauthorized"]));
    expect(world.fake.calls()).toEqual([]);
  });

  it("a body over the limit gets 413, not a reset, whether announced or streamed", async () => {
    const head = {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(Math.floor(Date.now() / 1000)),
      "x-slack-signature": `v0=${"0".repeat(64)}`,
    };
    const announced = await rawHttpExchange(
      world.appUrl,
      { ...head, "content-length": String(DEFAULT_BODY_LIMIT_BYTES + 1) },
      [],
    );
    expect(announced.status).toBe("HTTP/1.1 413 Payload Too Large");
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x61), Buffer.from("\r\n")]);
    const streamed = await rawHttpExchange(
      world.appUrl,
      { ...head, "transfer-encoding": "chunked" },
      Array.from({ length: 8 }, () => chunk),
    );
    expect(streamed.status).toBe("HTTP/1.1 413 Payload Too Large");
  });
});

describe("timestamps and replays", () => {
  it("a signed click dated 6 minutes ahead is refused however often it is sent; nothing happens", async () => {
    const { ts, channel, requestId } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    world.fake.clearCalls();
    const ahead = Math.floor(Date.now() / 1000) + 6 * 60;
    await unchanged(async () => {
      const first = await world.slack.blockAction(
        { userId: ann.id, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts },
        { timestamp: ahead },
      );
      expect(first.status).toBe(401);
      for (let i = 0; i < 3; i++) {
        expect((await world.slack.replay(first)).status).toBe(401);
      }
    });
    expect(world.fake.calls()).toEqual([]);
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "pending",
    );
  });

  it("a request one replica accepted is refused by another and by a restarted one, retry header or not", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const responseUrl = world.fake.newResponseUrl({ kind: "actions", channelId: channel, userId: carol.id });
    const first = await world.slack.blockAction({
      userId: carol.id,
      actionId: ACTION_IDS.deny,
      channelId: channel,
      messageTs: ts,
      responseUrl,
    });
    expect(first.status).toBe(200);
    await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);

    const replica = await startSlackReplica(world);
    // A restart: a new process, a new Redis connection, the same memory.
    const redis = createRedisConnection("redis://127.0.0.1:6379", "producer");
    await new Promise((resolve) => redis.once("ready", resolve));
    const restarted = await startSlackReplica(
      world,
      createRedisReplayMemory({ redis, prefix: world.replaysPrefix }),
    );
    try {
      world.fake.clearCalls();
      await unchanged(async () => {
        for (const url of [replica.url, restarted.url]) {
          for (const retry of [{}, { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" }]) {
            const response = await fetch(`${url}/slack/events`, {
              method: "POST",
              headers: { ...first.request.headers, ...retry },
              body: first.request.body,
            });
            expect(response.status).toBe(401);
            expect(await response.text()).toBe("replayed request");
          }
        }
      });
      expect(world.fake.calls()).toEqual([]);
    } finally {
      await replica.stop();
      await restarted.stop();
      await redis.quit();
    }
  });
});

describe("buttons Keyturn does not know", () => {
  it("are acknowledged at once, and the clicker is told the button is no longer valid", async () => {
    const { ts, channel, requestId } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const responseUrl = world.fake.newResponseUrl({ kind: "actions", channelId: channel, userId: ann.id });
    world.fake.clearCalls();
    const delivery = await unchanged(async () => {
      const sent = await world.slack.blockAction({
        userId: ann.id,
        actionId: "request.approve.v0",
        actionType: "button",
        value: requestId,
        channelId: channel,
        messageTs: ts,
        responseUrl,
      });
      const reply = await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
      expect(reply.args).toMatchObject({ response_type: "ephemeral", text: STALE_BUTTON_TEXT });
      return sent;
    });
    // Bolt answers 200 only once a listener acked; an unacknowledged click gets no 200.
    expect(delivery.status).toBe(200);
    expect(world.fake.calls("chat.update")).toEqual([]);
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "pending",
    );
  });
});

describe("forms Keyturn does not know", () => {
  it("a submission of an unknown modal is acknowledged (Slack closes it), and nothing is written", async () => {
    world.fake.clearCalls();
    const delivery = await unchanged(() =>
      world.slack.viewSubmission({
        userId: alice.id,
        view: { callback_id: "request_form.submit.v0", state: { values: {} } },
      }),
    );
    expect(delivery.status).toBe(200);
    expect(delivery.body).toBe("");
    expect(world.fake.calls()).toEqual([]);
    expect(world.logs.join("")).toContain("a submission of a form Keyturn does not know");
  });
});

describe("text Keyturn cannot store, typed into Slack", () => {
  it.each([
    ["a NUL character", "restore\u0000 the table"],
    ["a lone surrogate", "restore \ud83d the table"],
  ])("%s in the reason: an inline error under the field, nothing written", async (_name, reason) => {
    const { view } = await openAccessModal(world, alice.id);
    world.fake.clearCalls();
    const delivery = await unchanged(() =>
      world.slack.viewSubmission({
        userId: alice.id,
        view: {
          id: view.id,
          state: { values: formValues({ flow: "s3-prod", durationSeconds: 3600, reason }) },
        },
      }),
    );
    expect(delivery.status).toBe(200);
    expect(delivery.json).toEqual({
      response_action: "errors",
      errors: { reason: expect.stringMatching(/^The reason must .+: remove it and try again\.$/) },
    });
    expect(world.fake.calls("views.update")).toEqual([]);
  });

  it("a NUL in the /access text is answered, not a 500", async () => {
    const responseUrl = world.fake.newResponseUrl({
      kind: "commands",
      channelId: world.fake.dmChannelId(alice.id),
      userId: alice.id,
    });
    const delivery = await unchanged(() =>
      world.slack.slashCommand({
        command: "/access",
        userId: alice.id,
        text: "s3\u0000prod 1h",
        responseUrl,
      }),
    );
    expect(delivery.status).toBe(200);
    const reply = await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
    expect(String(reply.args.text)).toContain("There is no flow");
  });
});
