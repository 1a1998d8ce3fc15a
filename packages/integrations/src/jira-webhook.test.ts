import { createHmac } from "node:crypto";
import {
  type JiraEmulator,
  startJiraEmulator,
  startWebhookReceiver,
  type WebhookReceiver,
} from "@keyturn/testkit/provider-emulators";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyJiraWebhook } from "./jira-webhook.js";

// Jira's webhooks as the emulator sends them over HTTP (signed the way Jira documents for admin
// webhooks with a secret), verified from the bytes and headers a receiver got.

const NOW = Date.parse("2026-03-02T12:00:00Z");
const SECRET = "jira-webhook-secret";

let jira: JiraEmulator;
let receiver: WebhookReceiver;

const sign = (body: string | Buffer, secret = SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  jira = await startJiraEmulator({ now: () => NOW });
  jira.addProject("OPS");
  jira.subscribeWebhook({ url: receiver.url, secret: SECRET });
  jira.createIssue({ projectKey: "OPS", summary: "Deploy" });
});

afterEach(async () => {
  await jira.close();
  await receiver.close();
});

describe("verifyJiraWebhook", () => {
  it("accepts a genuine status change to Done as the ticket closing", async () => {
    const hook = await receiver.capture(() => jira.transitionIssue("OPS-1", "Done"));
    expect(verifyJiraWebhook({ rawBody: hook.body, headers: hook.headers, secret: SECRET })).toEqual({
      ok: true,
      event: {
        provider: "jira",
        key: "OPS-1",
        closed: true,
        deleted: false,
        state: { name: "Done", category: "closed" },
        deliveryId: hook.headers["x-atlassian-webhook-identifier"],
        sentAt: new Date(NOW),
      },
    });
  });

  it("reads an update that leaves the ticket open as not closed, and a deletion as closed", async () => {
    const moved = await receiver.capture(() => jira.transitionIssue("OPS-1", "In Progress"));
    expect(verifyJiraWebhook({ rawBody: moved.body, headers: moved.headers, secret: SECRET })).toMatchObject({
      ok: true,
      event: { closed: false, state: { name: "In Progress", category: "open" } },
    });
    const deleted = await receiver.capture(() => jira.deleteIssue("OPS-1"));
    expect(
      verifyJiraWebhook({ rawBody: deleted.body, headers: deleted.headers, secret: SECRET }),
    ).toMatchObject({
      ok: true,
      event: { key: "OPS-1", closed: true, deleted: true },
    });
  });

  it("keeps the delivery id of Jira's retries, so a repeat can be recognised", async () => {
    const first = await receiver.capture(() => jira.transitionIssue("OPS-1", "Done"));
    const retry = await receiver.capture(() =>
      jira.redeliverWebhook(first.headers["x-atlassian-webhook-identifier"] ?? ""),
    );
    const ids = [first, retry].map((h) => {
      const result = verifyJiraWebhook({ rawBody: h.body, headers: h.headers, secret: SECRET });
      return result.ok ? result.event?.deliveryId : undefined;
    });
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
  });

  it("accepts either secret while one is rotated out", async () => {
    const hook = await receiver.capture(() => jira.transitionIssue("OPS-1", "Done"));
    expect(
      verifyJiraWebhook({ rawBody: hook.body, headers: hook.headers, secret: ["the-new-one", SECRET] }).ok,
    ).toBe(true);
  });

  it("rejects a wrong secret, a changed byte, a re-serialized body and a missing or odd header", async () => {
    const hook = await receiver.capture(() => jira.transitionIssue("OPS-1", "Done"));
    const text = hook.body.toString("utf8");
    const cases: [string, Buffer | string, Record<string, string>, string | readonly string[], string][] = [
      ["wrong secret", hook.body, hook.headers, "another-secret", "bad_signature"],
      ["a changed byte", text.replace('"OPS-1"', '"OPS-2"'), hook.headers, SECRET, "bad_signature"],
      [
        "re-serialized JSON",
        JSON.stringify(JSON.parse(text), null, 2),
        hook.headers,
        SECRET,
        "bad_signature",
      ],
      ["no header", hook.body, { ...hook.headers, "x-hub-signature": "" }, SECRET, "missing_signature"],
      [
        "sha1 instead of sha256",
        hook.body,
        { ...hook.headers, "x-hub-signature": `sha1=${"0".repeat(40)}` },
        SECRET,
        "bad_signature",
      ],
      [
        "a short digest",
        hook.body,
        { ...hook.headers, "x-hub-signature": "sha256=abcd" },
        SECRET,
        "bad_signature",
      ],
      ["an empty secret", hook.body, hook.headers, "", "bad_signature"],
    ];
    for (const [name, rawBody, headers, secret, reason] of cases) {
      expect({ name, result: verifyJiraWebhook({ rawBody, headers, secret }) }).toMatchObject({
        name,
        result: { ok: false, reason },
      });
    }
  });

  it("reads the header in any case and as an array, the way frameworks hand headers over", async () => {
    const hook = await receiver.capture(() => jira.transitionIssue("OPS-1", "Done"));
    const signature = hook.headers["x-hub-signature"] ?? "";
    expect(
      verifyJiraWebhook({ rawBody: hook.body, headers: { "X-Hub-Signature": [signature] }, secret: SECRET })
        .ok,
    ).toBe(true);
  });

  it("refuses an oversized body before hashing it", () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 32);
    expect(
      verifyJiraWebhook({ rawBody: body, headers: { "x-hub-signature": sign(body) }, secret: SECRET }),
    ).toMatchObject({
      ok: false,
      reason: "body_too_large",
    });
  });

  it("refuses a signed body that is not a Jira payload, and ignores events about other things", () => {
    const garbage = "not json";
    expect(
      verifyJiraWebhook({ rawBody: garbage, headers: { "x-hub-signature": sign(garbage) }, secret: SECRET }),
    ).toMatchObject({
      ok: false,
      reason: "malformed_body",
    });
    const comment = JSON.stringify({ webhookEvent: "comment_created", timestamp: NOW, comment: { id: "1" } });
    expect(
      verifyJiraWebhook({ rawBody: comment, headers: { "x-hub-signature": sign(comment) }, secret: SECRET }),
    ).toEqual({
      ok: true,
      event: null,
    });
  });
});
