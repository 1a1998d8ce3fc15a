import { type SlackFake, startSlackFake } from "@keyturn/testkit/slack-fake";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackApiErrorObservation } from "./api-error-observer.js";
import { callSlack } from "./slack-api-errors.js";
import { createSlackWebClient } from "./web-client.js";

// The real WebClient against the fake Slack over HTTP, with the observer as its fetch.

let fake: SlackFake;
const seen: SlackApiErrorObservation[] = [];

beforeAll(async () => {
  fake = await startSlackFake();
  fake.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  fake.addChannel({ id: "C0OPS", name: "ops", members: ["U0ALICE"] });
});
afterAll(async () => {
  await fake.close();
});

const client = () =>
  createSlackWebClient({ token: fake.botToken, apiUrl: fake.url, onApiError: (o) => seen.push(o) });

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
}

describe("observing Slack API errors", () => {
  it("reports Slack's error, a rate limit and an HTTP failure by method, and nothing for a success", async () => {
    seen.length = 0;
    const slack = client();
    await slack.chat.postMessage({ channel: "C0OPS", text: "hello" });
    expect(seen).toEqual([]);

    fake.failNext("chat.postMessage", { error: "not_in_channel" });
    fake.failNext("users.lookupByEmail", { error: "ratelimited", retryAfterSeconds: 3 });
    fake.failNext("conversations.open", { error: "internal_error", status: 503 });
    const refused = await failure(
      callSlack("chat.postMessage", () => slack.chat.postMessage({ channel: "C0OPS", text: "again" })),
    );
    const limited = await failure(
      callSlack("users.lookupByEmail", () => slack.users.lookupByEmail({ email: "alice@example.com" })),
    );
    const down = await failure(
      callSlack("conversations.open", () => slack.conversations.open({ users: "U0ALICE" })),
    );

    expect(seen).toEqual([
      { method: "chat.postMessage", error: "not_in_channel" },
      { method: "users.lookupByEmail", error: "ratelimited" },
      { method: "conversations.open", error: "http_503" },
    ]);
    // The client still reads the answer and throws as before: the observer only watches.
    expect([refused, limited, down].map((e) => (e as { slackError?: string }).slackError)).toEqual([
      "not_in_channel",
      "ratelimited",
      "http_503",
    ]);
  });

  it("reports a Slack that cannot be reached as request_error", async () => {
    seen.length = 0;
    const gone = await startSlackFake();
    await gone.close();
    const slack = createSlackWebClient({
      token: gone.botToken,
      apiUrl: gone.url,
      onApiError: (o) => seen.push(o),
    });
    const error = await failure(callSlack("auth.test", () => slack.auth.test()));
    expect((error as { slackError?: string }).slackError).toBe("request_error");
    expect(seen).toEqual([{ method: "auth.test", error: "request_error" }]);
  });

  it("never lets a throwing observer fail a call", async () => {
    const slack = createSlackWebClient({
      token: fake.botToken,
      apiUrl: fake.url,
      onApiError: () => {
        throw new Error("metrics are broken");
      },
    });
    fake.failNext("chat.postMessage", { error: "channel_not_found" });
    const error = await failure(
      callSlack("chat.postMessage", () => slack.chat.postMessage({ channel: "C0OPS", text: "x" })),
    );
    expect((error as { slackError?: string }).slackError).toBe("channel_not_found");
    await slack.chat.postMessage({ channel: "C0OPS", text: "still fine" });
  });
});
