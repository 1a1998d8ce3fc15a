import { ACTION_IDS } from "@keyturn/slack";
import { SlackInteractionBuilder } from "@keyturn/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  APPROVAL_CHANNEL,
  flowRules,
  formValues,
  modalOutcome,
  PEOPLE,
  pendingRequest,
  textOf,
  useSlackWorld,
} from "./test-support.js";

// The Slack app in Socket Mode (SLACK_MODE=socket), as Bolt runs it on Node 24: it calls
// apps.connections.open with the app-level token on the fake Slack Web API, dials the ws:// URL
// it gets, waits for `hello`, and then answers every envelope (a slash command, a view
// submission, a button click) with an ack carrying its envelope_id, before doing the work.

const world = useSlackWorld({ transport: "socket" });
const { alice, ann } = PEOPLE;

beforeAll(async () => {
  await world.putFlow("s3-prod", flowRules());
});

describe("Socket Mode", () => {
  it("connects with the app-level token: apps.connections.open, then one WebSocket greeted with hello", async () => {
    const { fake, appUrl } = world;
    expect(appUrl).toBe("");
    await fake.socketMode.waitForConnections(1);
    const opens = fake.calls("apps.connections.open");
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens.every((call) => call.response.ok === true)).toBe(true);
    expect(String(opens[0]?.response.url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    expect(fake.socketMode.connections()).toBe(1);
  });

  it("takes /access, a modal submission and an Approve click over the socket, acking each envelope", async () => {
    const { fake, db, emulator } = world;

    // /access: acked over the socket, then the modal opens with the command's trigger id.
    const triggerId = fake.newTriggerId(alice.id);
    const command = await fake.socketMode.slashCommand({
      command: "/access",
      userId: alice.id,
      text: "s3-prod 2h INC-42 restore the orders table",
      triggerId,
    });
    expect(command.envelopeId).toMatch(/^[0-9a-f-]{36}$/);
    const opened = await fake.waitForCall("views.open", (c) => c.args.trigger_id === triggerId);
    const viewId = (opened.response.view as { id: string }).id;
    expect(textOf(fake.views(alice.id).find((v) => v.id === viewId)?.blocks)).toContain(
      '"initial_value":"INC-42"',
    );

    // The submission's ack carries the modal's next state, as over HTTP.
    const submitted = await fake.socketMode.viewSubmission({
      userId: alice.id,
      view: {
        id: viewId,
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
    expect(submitted.payload).toMatchObject({ response_action: "update" });
    expect(textOf((await modalOutcome(world, viewId)).args.view)).toContain("Requested");
    const request = await db.accessRequest.findFirstOrThrow({ where: { requester: { email: alice.email } } });
    expect(request).toMatchObject({ status: "pending", source: "slack", durationSeconds: 7200 });

    // The worker posts the approval message; ann clicks Approve on it, over the socket.
    expect((await world.pump()).failed).toEqual([]);
    const message = await db.slackMessage.findUniqueOrThrow({
      where: { requestId_kind: { requestId: request.id, kind: "approval" } },
    });
    expect(message.channel).toBe(APPROVAL_CHANNEL);
    const responseUrl = fake.newResponseUrl({
      kind: "actions",
      channelId: APPROVAL_CHANNEL,
      userId: ann.id,
      messageTs: message.ts,
    });
    const click = await fake.socketMode.blockAction({
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: APPROVAL_CHANNEL,
      messageTs: message.ts,
      responseUrl,
    });
    expect(click.payload ?? {}).toEqual({});
    const reply = await fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
    expect(String(reply.args.text)).toContain("You approved");
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe("approved");

    // And it is granted like any other approval.
    expect((await world.pump()).failed).toEqual([]);
    expect(emulator.assignments()).toContainEqual(
      expect.objectContaining({ accountId: ACCOUNT, principalId: world.idcUsers.alice }),
    );
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe("active");
  });

  it("acknowledges a redelivered click and applies it once", async () => {
    const { fake, db } = world;
    const { requestId, channel, ts } = await pendingRequest(world, { flow: "s3-prod", by: PEOPLE.carol });
    // One click, delivered twice: the second envelope is Slack's retry of the same payload.
    const payload = new SlackInteractionBuilder({ fake }).blockAction({
      userId: ann.id,
      actionId: ACTION_IDS.approve,
      channelId: channel,
      messageTs: ts,
    });
    const first = await fake.socketMode.send("interactive", payload);
    const again = await fake.socketMode.send("interactive", payload, {
      retryAttempt: 1,
      retryReason: "timeout",
    });
    expect(again.envelopeId).not.toBe(first.envelopeId);
    await expect
      .poll(async () => (await db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status, {
        timeout: 30_000,
        interval: 50,
      })
      .toBe("approved");
    expect(await db.review.count({ where: { requestId } })).toBe(1);
    expect(await db.auditEvent.count({ where: { requestId, action: "request.approved" } })).toBe(1);
  });

  it("reconnects when Slack asks it to (disconnect), and keeps answering", async () => {
    const { fake } = world;
    const opensBefore = fake.calls("apps.connections.open").length;
    const connectionsBefore = fake.socketMode.connectionsOpened();
    fake.socketMode.disconnectAll("refresh_requested");
    await fake.socketMode.waitForConnections(connectionsBefore + 1, 30_000);
    expect(fake.calls("apps.connections.open").length).toBeGreaterThan(opensBefore);
    const triggerId = fake.newTriggerId(alice.id);
    const ack = await fake.socketMode.slashCommand({ command: "/access", userId: alice.id, triggerId });
    expect(ack.envelopeId).toMatch(/^[0-9a-f-]{36}$/);
    await fake.waitForCall("views.open", (c) => c.args.trigger_id === triggerId);
  });
});
