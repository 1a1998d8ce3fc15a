import { createHmac } from "node:crypto";
import {
  type LinearEmulator,
  startLinearEmulator,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@keyturn/testkit/provider-emulators";
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LINEAR_WEBHOOK_TOLERANCE_MS, verifyLinearWebhook } from "./linear-webhook.js";

// Linear's webhooks as the emulator sends them over HTTP, verified from the received bytes and
// headers; where a delivery is genuine, @linear/sdk's own verifier is asked to agree.

const SECRET = "lin_wh_keyturn_secret";
let clock = Date.parse("2026-03-02T12:00:00Z");

let linear: LinearEmulator;
let receiver: WebhookReceiver;

function verify(
  hook: { body: Buffer | string; headers: Record<string, string> },
  at = clock,
  secret: string | string[] = SECRET,
) {
  return verifyLinearWebhook({ rawBody: hook.body, headers: hook.headers, secret, now: new Date(at) });
}

const signed = (payload: unknown) => {
  const body = JSON.stringify(payload);
  return { body, headers: { "linear-signature": createHmac("sha256", SECRET).update(body).digest("hex") } };
};

beforeEach(async () => {
  clock = Date.parse("2026-03-02T12:00:00Z");
  receiver = await startWebhookReceiver();
  linear = await startLinearEmulator({ now: () => clock });
  linear.addTeam("ENG");
  linear.subscribeWebhook({ url: receiver.url, secret: SECRET });
  linear.createIssue({ teamKey: "ENG", title: "Deploy" });
});

afterEach(async () => {
  await linear.close();
  await receiver.close();
});

describe("verifyLinearWebhook", () => {
  it("accepts a genuine move to a completed state as the ticket closing", async () => {
    const hook = await receiver.capture(() => linear.moveIssue("ENG-1", "Done"));
    expect(verify(hook)).toEqual({
      ok: true,
      event: {
        provider: "linear",
        key: "ENG-1",
        closed: true,
        deleted: false,
        state: { name: "Done", category: "closed" },
        deliveryId: hook.headers["linear-delivery"],
        sentAt: new Date(clock),
      },
    });
  });

  it("agrees with @linear/sdk's own verifier on a genuine delivery", async () => {
    clock = Date.now();
    const hook = await receiver.capture(() => linear.moveIssue("ENG-1", "Canceled"));
    expect(verify(hook, Date.now()).ok).toBe(true);
    expect(() =>
      new LinearWebhookClient(SECRET).parseData(hook.body, hook.headers["linear-signature"] ?? ""),
    ).not.toThrow();
  });

  it("reads canceled and removed issues as closed, and other moves as open", async () => {
    const started = await receiver.capture(() => linear.moveIssue("ENG-1", "In Progress"));
    expect(verify(started)).toMatchObject({
      ok: true,
      event: { closed: false, state: { category: "open" } },
    });
    const canceled = await receiver.capture(() => linear.moveIssue("ENG-1", "Duplicate"));
    expect(verify(canceled)).toMatchObject({
      ok: true,
      event: { closed: true, state: { name: "Duplicate" } },
    });
    const removed = await receiver.capture(() => linear.deleteIssue("ENG-1"));
    expect(verify(removed)).toMatchObject({ ok: true, event: { key: "ENG-1", closed: true, deleted: true } });
  });

  it("refuses a delivery older or newer than Linear's one-minute window (a replay)", async () => {
    const hook = await receiver.capture(() => linear.moveIssue("ENG-1", "Done"));
    expect(verify(hook, clock + LINEAR_WEBHOOK_TOLERANCE_MS).ok).toBe(true);
    expect(verify(hook, clock + LINEAR_WEBHOOK_TOLERANCE_MS + 1)).toMatchObject({
      ok: false,
      reason: "stale_timestamp",
    });
    expect(verify(hook, clock - LINEAR_WEBHOOK_TOLERANCE_MS - 1)).toMatchObject({
      ok: false,
      reason: "stale_timestamp",
    });
  });

  it("accepts Linear's retry, which is stamped afresh, under the same delivery id", async () => {
    const first = await receiver.capture(() => linear.moveIssue("ENG-1", "Done"));
    clock += 10 * 60_000;
    const retry = await receiver.capture(() =>
      linear.redeliverWebhook(first.headers["linear-delivery"] ?? ""),
    );
    expect(verify(first)).toMatchObject({ ok: false, reason: "stale_timestamp" });
    expect(verify(retry)).toMatchObject({
      ok: true,
      event: { deliveryId: first.headers["linear-delivery"] },
    });
  });

  it("rejects a wrong secret, a changed byte, a missing header and a signature of another body", async () => {
    const hook = await receiver.capture(() => linear.moveIssue("ENG-1", "Done"));
    const text = hook.body.toString("utf8");
    expect(verify(hook, clock, "another-secret")).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(verify({ body: text.replace('"Done"', '"Todo"'), headers: hook.headers })).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    expect(verify({ body: hook.body, headers: {} })).toMatchObject({
      ok: false,
      reason: "missing_signature",
    });
    const other = signed({ type: "Issue", action: "update", webhookTimestamp: clock });
    expect(verify({ body: hook.body, headers: other.headers })).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    expect(verify(hook, clock, ["rotated-in", SECRET]).ok).toBe(true);
  });

  it("refuses a signed body without webhookTimestamp or that is not JSON, and ignores other types", () => {
    expect(verify(signed({ type: "Issue", action: "update", data: { identifier: "ENG-1" } }))).toMatchObject({
      ok: false,
      reason: "malformed_body",
    });
    const notJson = {
      body: "{",
      headers: { "linear-signature": createHmac("sha256", SECRET).update("{").digest("hex") },
    };
    expect(verify(notJson)).toMatchObject({ ok: false, reason: "malformed_body" });
    expect(
      verify(signed({ type: "Comment", action: "create", webhookTimestamp: clock, data: { id: "c1" } })),
    ).toEqual({
      ok: true,
      event: null,
    });
  });

  it("refuses an oversized body", () => {
    const big = { body: Buffer.alloc(1024 * 1024 + 1, 32), headers: { "linear-signature": "0".repeat(64) } };
    expect(verify(big)).toMatchObject({ ok: false, reason: "body_too_large" });
  });
});
