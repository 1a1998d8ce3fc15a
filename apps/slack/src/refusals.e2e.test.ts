import { randomUUID } from "node:crypto";
import { ACTION_IDS } from "@keyturn/slack";
import { slackSignature } from "@keyturn/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import {
  clickOnMessage,
  expectUnchanged,
  flowRules,
  formValues,
  openAccessModal,
  PEOPLE,
  pendingRequest,
  SIGNING_SECRET,
  useSlackWorld,
} from "./test-support.js";

// Invariant 7: bad input never changes state. Every refusal here is checked against the row
// counts of every table, before and after, and against what Slack was asked to do.

const world = useSlackWorld();
const { alice, ann, bob, mallory } = PEOPLE;

beforeAll(async () => {
  world.fake.addUser({ id: "U0NOEMAIL", name: "guest", email: "" });
  // ann's email, on a second Slack account: ann is pinned to U0ANN once she has acted.
  world.fake.addUser({ id: "U0TWIN", name: "ann-twin", email: ann.email });
  await world.db.identity.create({
    data: {
      id: randomUUID(),
      email: ann.email,
      slackUserId: ann.id,
      createdAt: new Date(),
      updatedAt: new Date(),
    },
  });
  await world.putFlow(
    "s3-prod",
    flowRules({ reason: { required: true }, ticket: { required: false, pattern: "INC-\\d+" } }),
  );
});

const unchanged = <T>(act: () => Promise<T>) => expectUnchanged(world, act);

describe("requests Slack did not sign are rejected before anything is parsed", () => {
  it("a bad signature gets 401 and no Slack call", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    world.fake.clearCalls();
    const delivery = await unchanged(() =>
      world.slack.blockAction(
        { userId: ann.id, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts },
        { signature: `v0=${"0".repeat(64)}` },
      ),
    );
    expect(delivery.status).toBe(401);
    expect(world.fake.calls()).toEqual([]);
  });

  // The guard is the only verifier (Bolt's own check is off): without it these would reach Bolt.
  it("a click without the signature headers gets 401 and no Slack call", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    world.fake.clearCalls();
    const delivery = await unchanged(() =>
      world.slack.blockAction(
        { userId: ann.id, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts },
        { signature: null },
      ),
    );
    expect(delivery.status).toBe(401);
    expect(world.fake.calls()).toEqual([]);
  });

  it("a click whose body was changed after Slack signed it gets 401 and no Slack call", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    // Slack signs mallory's click; it arrives as ann's (an approver's).
    const { request } = await world.slack.blockAction(
      { userId: mallory.id, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts },
      { signature: null },
    );
    const timestamp = Math.floor(Date.now() / 1000);
    const body = request.body.replaceAll(mallory.id, ann.id);
    expect(body).not.toBe(request.body);
    world.fake.clearCalls();
    const response = await unchanged(() =>
      fetch(request.url, {
        method: "POST",
        headers: {
          ...request.headers,
          "x-slack-request-timestamp": String(timestamp),
          "x-slack-signature": slackSignature(SIGNING_SECRET, timestamp, request.body),
        },
        body,
      }),
    );
    expect(response.status).toBe(401);
    expect(world.fake.calls()).toEqual([]);
  });

  it("an unsigned click sent with another method than POST reaches no listener", async () => {
    // The guard checks POSTs only; Bolt dispatches only POSTs to its listeners.
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const { request } = await world.slack.blockAction(
      { userId: ann.id, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts },
      { signature: null },
    );
    world.fake.clearCalls();
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const response = await unchanged(() =>
        fetch(request.url, { method, headers: request.headers, body: request.body }),
      );
      expect(response.status, method).toBe(404);
    }
    expect(world.fake.calls()).toEqual([]);
  });

  it("a timestamp older than 5 minutes gets 401, even correctly signed", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    world.fake.clearCalls();
    const delivery = await unchanged(() =>
      world.slack.blockAction(
        { userId: ann.id, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts },
        { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
      ),
    );
    expect(delivery.status).toBe(401);
    expect(world.fake.calls()).toEqual([]);
  });

  it("a replayed request (same signature and timestamp, no retry header) gets 401", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const responseUrl = world.fake.newResponseUrl({
      kind: "actions",
      channelId: channel,
      userId: mallory.id,
    });
    const first = await world.slack.blockAction({
      userId: mallory.id,
      actionId: ACTION_IDS.deny,
      channelId: channel,
      messageTs: ts,
      responseUrl,
    });
    expect(first.status).toBe(200);
    await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
    world.fake.clearCalls();
    const replayed = await unchanged(() => world.slack.replay(first));
    expect(replayed.status).toBe(401);
    expect(world.fake.calls()).toEqual([]);
    expect(world.logs.join("")).toContain("refused a replayed Slack request");
  });
});

describe("clicks by the wrong people get an ephemeral refusal and change nothing", () => {
  it("a non-approver", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    world.fake.clearCalls();
    const { reply } = await unchanged(() =>
      clickOnMessage(world, {
        userId: mallory.id,
        actionId: ACTION_IDS.approve,
        channelId: channel,
        messageTs: ts,
      }),
    );
    expect(reply).toContain("You are not an approver");
    // Only the clicker saw it: an ephemeral answer, no message changed.
    expect(world.fake.ephemeralMessages(channel).at(-1)).toMatchObject({
      user: mallory.id,
      via: "response_url",
    });
    expect(world.fake.calls("chat.update")).toEqual([]);
    expect(world.fake.calls("chat.postMessage")).toEqual([]);
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "pending",
    );
  });

  it("the requester approving their own request (they are an approver through @ops)", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const { reply } = await unchanged(() =>
      clickOnMessage(world, {
        userId: alice.id,
        actionId: ACTION_IDS.approve,
        channelId: channel,
        messageTs: ts,
      }),
    );
    expect(reply).toBe("You cannot approve your own request: another approver has to.");
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "pending",
    );
  });

  it("a bot user", async () => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const { reply } = await unchanged(() =>
      clickOnMessage(world, {
        userId: "U0DEPLOYBOT",
        actionId: ACTION_IDS.approve,
        channelId: channel,
        messageTs: ts,
      }),
    );
    expect(reply).toContain("Bots and apps cannot request or approve access");
  });

  it("a click on a request that is already decided names who decided it", async () => {
    const { requestId, ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const first = await clickOnMessage(world, {
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: channel,
      messageTs: ts,
    });
    expect(first.reply).toContain("You approved");
    const late = await unchanged(() =>
      clickOnMessage(world, {
        userId: bob.id,
        actionId: ACTION_IDS.approve,
        channelId: channel,
        messageTs: ts,
      }),
    );
    expect(late.reply).toMatch(new RegExp(`^This request was already approved by <@${ann.id}>`));
    expect(await world.db.review.count({ where: { requestId } })).toBe(1);
  });
});

describe("people Keyturn cannot map to an AWS identity are told what to fix", () => {
  it.each([
    ["a deactivated account", "U0GONE", "Your Slack account is deactivated."],
    ["a profile without an email", "U0NOEMAIL", "Keyturn cannot see an email address on your Slack profile"],
    [
      "an email already pinned to another Slack account",
      "U0TWIN",
      "already belongs to another Slack account",
    ],
  ])("%s", async (_case, userId, expected) => {
    const { ts, channel } = await pendingRequest(world, { flow: "s3-prod", by: alice });
    const { reply } = await unchanged(() =>
      clickOnMessage(world, { userId, actionId: ACTION_IDS.approve, channelId: channel, messageTs: ts }),
    );
    expect(reply).toContain(expected);
  });
});

describe("the request form answers problems inline", () => {
  async function submit(values: Parameters<typeof formValues>[0]) {
    const { view } = await openAccessModal(world, alice.id);
    const delivery = await unchanged(() =>
      world.slack.viewSubmission({
        userId: alice.id,
        view: { id: view.id, state: { values: formValues(values) } },
      }),
    );
    expect(delivery.status).toBe(200);
    return delivery.json as { response_action: string; errors: Record<string, string> };
  }

  it("a duration above the flow's max", async () => {
    const answer = await submit({ flow: "s3-prod", durationSeconds: 8 * 3600, reason: "restore" });
    expect(answer).toEqual({
      response_action: "errors",
      errors: { duration: "8h is longer than this flow allows: at most 2h." },
    });
  });

  it("a missing reason", async () => {
    const answer = await submit({ flow: "s3-prod", durationSeconds: 3600, reason: "  " });
    expect(answer).toEqual({
      response_action: "errors",
      errors: { reason: "This flow needs a reason: say what you need the access for." },
    });
  });

  it("a ticket that does not match the flow's pattern, with the other problems at once", async () => {
    const answer = await submit({ flow: "s3-prod", reason: "", ticket: "JIRA-1" });
    expect(answer.errors).toEqual({
      duration: "Choose how long you need access for.",
      reason: "This flow needs a reason: say what you need the access for.",
      ticket: "The ticket must match INC-\\d+.",
    });
  });

  it("an unknown flow in /access lists what the user may request instead", async () => {
    const responseUrl = world.fake.newResponseUrl({
      kind: "commands",
      channelId: world.fake.dmChannelId(alice.id),
      userId: alice.id,
    });
    await unchanged(async () => {
      await world.slack.slashCommand({
        command: "/access",
        userId: alice.id,
        text: "<!channel> 2h",
        responseUrl,
      });
      const reply = await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
      expect(reply.args.text).toBe(
        "There is no flow `&lt;!channel&gt;`. You may request: `s3-prod` (S3 production data).",
      );
    });
  });
});
