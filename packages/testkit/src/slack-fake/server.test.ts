import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSlackFake } from "./server.js";
import { callApi, section } from "./test-support.js";
import type { SlackFake } from "./types.js";

let clock = 1_700_000_000_000;
let fake: SlackFake;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = await startSlackFake({ now: () => clock, botToken: "xoxb-right" });
  fake.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  fake.addChannel({ id: "C0APPROVALS", name: "access-approvals" });
});

afterEach(async () => {
  await fake.close();
});

describe("the wire", () => {
  it("serves the Web API under the URL Bolt's slackApiUrl takes", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    expect(fake.url.startsWith(fake.origin)).toBe(true);
  });

  it("reads form bodies with JSON-encoded blocks and JSON bodies alike", async () => {
    const blocks = [section("hello")];
    const form = await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "form", blocks });
    const json = await callApi(
      fake,
      "chat.postMessage",
      { channel: "C0APPROVALS", text: "json", blocks },
      { encoding: "json" },
    );
    expect(form.body.ok).toBe(true);
    expect(json.body.ok).toBe(true);
    expect(fake.calls("chat.postMessage").map((c) => [c.encoding, c.args])).toEqual([
      ["form", { channel: "C0APPROVALS", text: "form", blocks }],
      ["json", { channel: "C0APPROVALS", text: "json", blocks }],
    ]);
    expect(fake.messages("C0APPROVALS").map((m) => m.blocks)).toEqual([blocks, blocks]);
  });

  it("warns about JSON posted without a charset, as Slack does", async () => {
    const { body } = await callApi(
      fake,
      "auth.test",
      {},
      { encoding: "json", contentType: "application/json" },
    );
    expect(body).toMatchObject({
      ok: true,
      warning: "missing_charset",
      response_metadata: { warnings: ["missing_charset"] },
    });
  });

  it("answers missing_post_type, invalid_json and invalid_post_type", async () => {
    const post = async (headers: Record<string, string>, body: string) =>
      (await (await fetch(`${fake.url}auth.test`, { method: "POST", headers, body })).json()) as {
        error: string;
      };
    const auth = { authorization: "Bearer xoxb-right" };
    const noType = await fetch(`${fake.url}auth.test`, {
      method: "POST",
      headers: auth,
      body: new Uint8Array(Buffer.from("a=b")),
    });
    expect(((await noType.json()) as { error: string }).error).toBe("missing_post_type");
    expect((await post({ ...auth, "content-type": "application/json" }, "{")).error).toBe("invalid_json");
    expect((await post({ ...auth, "content-type": "multipart/form-data; boundary=x" }, "--x--")).error).toBe(
      "invalid_post_type",
    );
  });

  it("accepts GET with query arguments", async () => {
    const response = await fetch(`${fake.url}users.info?user=U0ALICE&token=xoxb-right`);
    expect(await response.json()).toMatchObject({ ok: true, user: { id: "U0ALICE" } });
    expect(fake.calls("users.info")[0]?.encoding).toBe("query");
  });

  it("sends Slack's response headers", async () => {
    const { headers } = await callApi(fake, "auth.test");
    expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(headers.get("x-slack-req-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(headers.get("x-oauth-scopes")).toContain("chat:write");
  });
});

describe("authentication", () => {
  it("takes the token from the Authorization header or a token form field", async () => {
    expect((await callApi(fake, "auth.test")).body.ok).toBe(true);
    expect((await callApi(fake, "auth.test", {}, { tokenInBody: true })).body.ok).toBe(true);
  });

  it("answers invalid_auth for a wrong token and not_authed for none", async () => {
    expect((await callApi(fake, "auth.test", {}, { token: "xoxb-wrong" })).body).toEqual({
      ok: false,
      error: "invalid_auth",
    });
    expect(
      (await callApi(fake, "auth.test", {}, { token: "xoxb-wrong", tokenInBody: true })).body.error,
    ).toBe("invalid_auth");
    expect((await callApi(fake, "auth.test", {}, { token: null })).body).toEqual({
      ok: false,
      error: "not_authed",
    });
  });

  it("ignores a token inside a JSON body, which Slack does not accept", async () => {
    const { body } = await callApi(fake, "auth.test", {}, { encoding: "json", tokenInBody: true });
    expect(body).toEqual({ ok: false, error: "not_authed" });
  });

  it("does not change state on a rejected call, and records it without the token", async () => {
    await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "x" }, { token: "xoxb-wrong" });
    expect(fake.messages()).toEqual([]);
    await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "x" }, { tokenInBody: true });
    expect(fake.calls().map((c) => [c.response.error ?? "ok", c.args])).toEqual([
      ["invalid_auth", { channel: "C0APPROVALS", text: "x" }],
      ["ok", { channel: "C0APPROVALS", text: "x" }],
    ]);
  });
});

describe("the call record", () => {
  it("records method, parsed args, fake time, status and response; filters and clears", async () => {
    await callApi(fake, "auth.test");
    clock += 250;
    await callApi(fake, "users.info", { user: "U0ALICE" });
    const [call] = fake.calls("users.info");
    expect(call).toMatchObject({
      method: "users.info",
      args: { user: "U0ALICE" },
      encoding: "form",
      at: 1_700_000_000_250,
      status: 200,
      response: { ok: true, user: { id: "U0ALICE" } },
    });
    expect(fake.calls((c) => c.at < 1_700_000_000_100).map((c) => c.method)).toEqual(["auth.test"]);
    expect(fake.calls()).toHaveLength(2);
    fake.clearCalls();
    expect(fake.calls()).toEqual([]);
  });
});

describe("failNext", () => {
  it("answers HTTP 429 with Retry-After and ratelimited, then recovers", async () => {
    fake.failNext("chat.postMessage", { error: "ratelimited", retryAfterSeconds: 7, count: 2 });
    const args = { channel: "C0APPROVALS", text: "hello" };
    for (let i = 0; i < 2; i++) {
      const limited = await callApi(fake, "chat.postMessage", args);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("7");
      expect(limited.body).toEqual({ ok: false, error: "ratelimited" });
    }
    expect(fake.messages()).toEqual([]);
    const after = await callApi(fake, "chat.postMessage", args);
    expect(after.status).toBe(200);
    expect(after.body.ok).toBe(true);
    expect(fake.calls("chat.postMessage").map((c) => c.status)).toEqual([429, 429, 200]);
  });

  it("defaults Retry-After to 1 s on a 429", async () => {
    fake.failNext("auth.test", { error: "ratelimited" });
    expect((await callApi(fake, "auth.test")).headers.get("retry-after")).toBe("1");
  });

  it("answers 5xx and 200-with-error faults, only for the named method (or * for any)", async () => {
    fake.failNext("chat.update", { error: "service_unavailable", status: 503 });
    fake.failNext("views.publish", { error: "internal_error", status: 500 });
    fake.failNext("users.info", { error: "fatal_error" });
    expect((await callApi(fake, "auth.test")).body.ok).toBe(true);
    const unavailable = await callApi(fake, "chat.update", { channel: "C0APPROVALS", ts: "1.1", text: "x" });
    expect([unavailable.status, unavailable.body]).toEqual([
      503,
      { ok: false, error: "service_unavailable" },
    ]);
    expect(unavailable.headers.get("retry-after")).toBeNull();
    const internal = await callApi(fake, "views.publish", {
      user_id: "U0ALICE",
      view: { type: "home", blocks: [] },
    });
    expect(internal.status).toBe(500);
    const platform = await callApi(fake, "users.info", { user: "U0ALICE" });
    expect([platform.status, platform.body]).toEqual([200, { ok: false, error: "fatal_error" }]);
    fake.failNext("*", { error: "team_added_to_org" });
    expect((await callApi(fake, "auth.test")).body.error).toBe("team_added_to_org");
    expect((await callApi(fake, "auth.test")).body.ok).toBe(true);
  });

  it("rejects a count that is not a positive integer", () => {
    expect(() => fake.failNext("auth.test", { error: "x", count: 0 })).toThrow(/positive integer/);
  });
});

describe("waitForCall", () => {
  it("resolves when a matching call arrives after the wait began", async () => {
    const waiting = fake.waitForCall("chat.postMessage", (call) => call.args.text === "second");
    await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "first" });
    await callApi(fake, "auth.test");
    await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "second" });
    const call = await waiting;
    expect(call.response).toMatchObject({ ok: true, channel: "C0APPROVALS" });
  });

  it("resolves at once with a matching call already recorded", async () => {
    await callApi(fake, "auth.test");
    await expect(fake.waitForCall("auth.test")).resolves.toMatchObject({ method: "auth.test" });
  });

  it("rejects on timeout listing the recent calls", async () => {
    await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "pending" });
    await callApi(fake, "users.info", { user: "U0NOBODY" });
    const error = await fake.waitForCall("chat.update", undefined, 20).then(
      () => new Error("resolved"),
      (rejection: unknown) => rejection as Error,
    );
    expect(error.message).toContain(
      'waitForCall("chat.update") timed out after 20 ms: 0 chat.update call(s)',
    );
    expect(error.message).toContain("Recent calls (2 of 2):");
    expect(error.message).toContain('1. chat.postMessage ok {"channel":"C0APPROVALS","text":"pending"}');
    expect(error.message).toContain('2. users.info error=user_not_found {"user":"U0NOBODY"}');
  });

  it("rejects with the predicate's own error", async () => {
    const rejected = expect(
      fake.waitForCall("auth.test", () => {
        throw new Error("bad predicate");
      }),
    ).rejects.toThrow("bad predicate");
    await callApi(fake, "auth.test");
    await rejected;
  });

  it("rejects pending waits when the fake closes", async () => {
    const other = await startSlackFake();
    const rejected = expect(other.waitForCall("chat.postMessage")).rejects.toThrow(/closed/);
    await other.close();
    await rejected;
  });
});

describe("response URLs", () => {
  async function postTo(url: string, body: Record<string, unknown>) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  }

  it("turns a plain reply into an ephemeral message for the user who interacted", async () => {
    const url = fake.newResponseUrl({ kind: "commands", channelId: "C0APPROVALS", userId: "U0ALICE" });
    expect(url.startsWith(`${fake.origin}/hooks/commands/`)).toBe(true);
    expect(await postTo(url, { text: "Opening the form…" })).toEqual({ status: 200, text: '{"ok":true}' });
    expect(fake.ephemeralMessages()).toEqual([
      expect.objectContaining({
        channel: "C0APPROVALS",
        user: "U0ALICE",
        text: "Opening the form…",
        via: "response_url",
      }),
    ]);
    expect(fake.calls("response_url")).toEqual([
      expect.objectContaining({ args: { text: "Opening the form…" }, responseUrl: url, status: 200 }),
    ]);
  });

  it("replaces or deletes the original message, or posts in_channel", async () => {
    const posted = await callApi(fake, "chat.postMessage", { channel: "C0APPROVALS", text: "pending" });
    const ts = String(posted.body.ts);
    const url = fake.newResponseUrl({
      kind: "actions",
      channelId: "C0APPROVALS",
      userId: "U0ALICE",
      messageTs: ts,
    });
    await postTo(url, { replace_original: true, text: "approved", blocks: [section("approved")] });
    expect(fake.messages("C0APPROVALS")).toEqual([
      expect.objectContaining({ ts, text: "approved", blocks: [section("approved")] }),
    ]);
    await postTo(url, { response_type: "in_channel", text: "FYI" });
    expect(fake.messages("C0APPROVALS").map((m) => m.text)).toEqual(["approved", "FYI"]);
    await postTo(url, { delete_original: true });
    expect(fake.messages("C0APPROVALS").map((m) => m.text)).toEqual(["FYI"]);
  });

  it("answers 404 no_service for a URL it never issued", async () => {
    expect(await postTo(`${fake.origin}/hooks/actions/T0/1/nope`, { text: "x" })).toEqual({
      status: 404,
      text: "no_service",
    });
  });
});
