import { randomUUID } from "node:crypto";
import { createSlackClient, type SlackFake, startSlackFake } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { until } from "./processes.js";
import { freePort, killMains, localEnv, startMain } from "./test-support.js";

// One request, made in Slack, approved in Slack, granted and removed by the worker, revoked through
// the admin API: `grep <request id>` over the three apps' logs must tell the whole story, one info
// line per state change, each with the ids an operator greps for.

const database = useTestDatabase();
const SIGNING_SECRET = "0123456789abcdef0123456789abcdef";
const CHANNEL = "C0KEYTURN";
let slack: SlackFake;

beforeAll(async () => {
  slack = await startSlackFake({ port: await freePort() });
  slack.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  slack.addUser({ id: "U0BOB", name: "bob", email: "bob@example.com" });
  slack.addChannel({ id: CHANNEL, name: "access-requests", members: ["U0BOB"] });
});
afterEach(killMains);
afterAll(async () => {
  await slack.close();
});

type Line = { app: string; event?: string; msg?: string; level?: number; [key: string]: unknown };

/** The apps' JSON log lines, from the main command's output (each prefixed with its app). */
function logLines(output: string): Line[] {
  const lines: Line[] = [];
  for (const raw of output.split("\n")) {
    const match = /^\[(api|slack|worker)\] (\{.*\})$/.exec(raw);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      try {
        lines.push({ app: match[1], ...(JSON.parse(match[2]) as Record<string, unknown>) });
      } catch {
        // Not JSON (a dependency's own output).
      }
    }
  }
  return lines;
}

describe("a request's story in the logs", () => {
  it("is found by its id in the logs of the Slack app, the worker and the API, one line per change", async () => {
    const { env, ports } = await localEnv(database.url, {
      REDIS_PREFIX: `keyturn-story-${randomUUID().slice(0, 8)}`,
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
      KEYTURN_LOCAL_SLACK: "real",
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.url,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
    });
    const started = await startMain(env, ports);
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    const token = /Admin token \(shown once, valid 12 h\): (\S+)/.exec(started.output())?.[1] ?? "";
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
    const client = createSlackClient({
      appUrl: `http://127.0.0.1:${ports.slack}`,
      signingSecret: SIGNING_SECRET,
      fake: slack,
    });

    // Alice asks in Slack.
    const triggerId = slack.newTriggerId("U0ALICE");
    await client.slashCommand({ command: "/access", userId: "U0ALICE", text: "s3-data 1h INC-9", triggerId });
    const opened = await slack.waitForCall("views.open", (c) => c.args.trigger_id === triggerId, 30_000);
    const viewId = (opened.response.view as { id: string }).id;
    const select = (value: string) => ({
      type: "static_select",
      selected_option: { text: { type: "plain_text", text: value }, value },
    });
    await client.viewSubmission({
      userId: "U0ALICE",
      view: {
        id: viewId,
        state: {
          values: {
            flow: { "request_form.choose_flow": select("s3-data") },
            duration: { "request_form.duration": select("3600") },
            reason: { "request_form.reason": { type: "plain_text_input", value: "INC-9 the story" } },
            ticket: { "request_form.ticket": { type: "plain_text_input", value: null } },
          },
        },
      },
    });
    const requestId = await until("the request", async () => {
      const listed = (await (await api("/v1/requests?requester=alice@example.com")).json()) as {
        items: Array<{ id: string }>;
      };
      return listed.items[0]?.id;
    });

    // Bob approves in Slack; the worker grants.
    const posted = await slack.waitForCall("chat.postMessage", (c) => c.args.channel === CHANNEL, 30_000);
    await client.blockAction({
      userId: "U0BOB",
      actionId: "request.approve",
      channelId: CHANNEL,
      messageTs: String(posted.response.ts),
    });
    const state = async () =>
      ((await (await api(`/v1/requests/${requestId}`)).json()) as { state: string }).state;
    await until("the grant", async () => ((await state()) === "active" ? true : undefined));

    // An admin revokes it through the API; the worker removes the assignment.
    const revoked = await api(`/v1/requests/${requestId}/revoke`, {
      method: "POST",
      body: JSON.stringify({ asAdmin: true, reason: "story over" }),
    });
    expect(revoked.status, await revoked.text()).toBe(200);
    const removed = () =>
      logLines(started.output()).some(
        (l) => l.event === "assignment.deleted" && JSON.stringify(l).includes(requestId),
      );
    await until("the removal", async () => (removed() ? true : undefined));

    const story = logLines(started.output()).filter((line) => JSON.stringify(line).includes(requestId));
    const events = (app: string) =>
      story.filter((l) => l.app === app && l.event !== undefined).map((l) => l.event);
    expect(events("slack")).toEqual(["request.submitted", "request.approved"]);
    expect(events("api"), JSON.stringify(story.filter((l) => l.app === "api"))).toEqual(["request.revoked"]);
    expect(events("worker")).toEqual(
      expect.arrayContaining([
        "identity.pinned",
        "assignment.create_requested",
        "assignment.created",
        "request.activated",
        "assignment.delete_requested",
        "assignment.deleted",
      ]),
    );
    // One line per change: no event about this request logged twice, anywhere.
    const counted = story.filter((l) => l.event !== undefined).map((l) => `${l.event}`);
    expect(counted.length).toBe(new Set(counted).size);
    // Every line says who acted, at info; the worker's say which job, the AWS ones AWS's request id.
    for (const line of story.filter((l) => l.event !== undefined)) {
      expect(line.level).toBe(30);
      expect(line.actor).toEqual(expect.any(String));
    }
    const approved = story.find((l) => l.event === "request.approved");
    expect(approved).toMatchObject({ actor: "identity:bob@example.com", actorLabel: "slack:U0BOB" });
    for (const line of story.filter((l) => l.app === "worker" && l.event !== undefined)) {
      expect(line.jobId, JSON.stringify(line)).toEqual(expect.any(String));
    }
    for (const line of story.filter((l) => String(l.event).startsWith("assignment."))) {
      expect(line).toMatchObject({ assignmentId: expect.any(String), awsRequestId: expect.any(String) });
    }

    started.main.kill("SIGINT");
    expect(await started.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});
