import { createHmac } from "node:crypto";
import {
  createCloudClient,
  isAuthError,
  isForbiddenError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
} from "jira.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type JiraEmulator, startJiraEmulator } from "./jira.js";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

// The emulator through jira.js 6.2.0, pointed at loopback with its `host` option. Schema
// mismatches throw here, so every answer is one jira.js's own schemas accept.

const NOW = Date.parse("2026-03-02T12:00:00Z");

let jira: JiraEmulator;

function client(auth: { email: string; apiToken: string } = jira.credentials) {
  return createCloudClient({ host: jira.url, auth: { type: "basic", ...auth }, onSchemaMismatch: "throw" });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
}

beforeEach(async () => {
  jira = await startJiraEmulator({ now: () => NOW });
  jira.addProject("OPS", "Operations");
  jira.addProject("HR", "People");
  jira.addUser({ displayName: "Alice Example", email: "alice@example.com" });
  jira.addUser({ displayName: "Hidden Harry", email: "harry@example.com", emailVisible: false });
});

afterEach(async () => {
  await jira.close();
});

describe("GET /rest/api/3/issue/{issueIdOrKey}", () => {
  it("answers the issue with summary, status category, project and assignee", async () => {
    const created = jira.createIssue({
      projectKey: "OPS",
      summary: "Rotate the prod keys",
      assigneeEmail: "alice@example.com",
    });
    const issue = await client().issues.getIssue({ issueIdOrKey: "OPS-1" });
    expect(issue).toMatchObject({
      key: "OPS-1",
      id: created.id,
      self: `${jira.url}/rest/api/3/issue/${created.id}`,
    });
    expect(issue.fields).toMatchObject({
      summary: "Rotate the prod keys",
      status: { name: "To Do", statusCategory: { key: "new" } },
      project: { key: "OPS", name: "Operations" },
      assignee: { emailAddress: "alice@example.com", displayName: "Alice Example" },
      created: "2026-03-02T12:00:00.000+0000",
    });
    const [call] = jira.calls("GET /rest/api/3/issue/{issueIdOrKey}");
    const expected = `Basic ${Buffer.from(`${jira.credentials.email}:${jira.credentials.apiToken}`).toString("base64")}`;
    expect(call?.headers.authorization).toBe(expected);
  });

  it("returns only the fields asked for, as a list or with exclusions", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One" });
    const some = await client().issues.getIssue({ issueIdOrKey: "OPS-1", fields: ["summary", "status"] });
    expect(Object.keys(some.fields ?? {}).sort()).toEqual(["status", "summary"]);
    const calls = jira.calls("GET /rest/api/3/issue/{issueIdOrKey}");
    expect(calls[0]?.query.getAll("fields")).toEqual(["summary", "status"]);

    const response = await fetch(`${jira.url}/rest/api/3/issue/OPS-1?fields=*all,-assignee,-issuetype`, {
      headers: { authorization: calls[0]?.headers.authorization ?? "" },
    });
    const body = (await response.json()) as { fields: Record<string, unknown> };
    expect(Object.keys(body.fields).sort()).toEqual(["created", "project", "status", "summary", "updated"]);
  });

  it("finds an issue by a lower-case key or its numeric id", async () => {
    const created = jira.createIssue({ projectKey: "OPS", summary: "One" });
    expect((await client().issues.getIssue({ issueIdOrKey: "ops-1" })).key).toBe("OPS-1");
    expect((await client().issues.getIssue({ issueIdOrKey: created.id })).key).toBe("OPS-1");
  });

  it("answers the same 404 for a missing issue and one in a project the token cannot browse", async () => {
    jira.createIssue({ projectKey: "HR", summary: "Salaries" });
    jira.addCredential({ email: "ops-bot@example.com", apiToken: "ops-only", browseProjects: ["OPS"] });
    const missing = await failure(client().issues.getIssue({ issueIdOrKey: "OPS-99" }));
    const hidden = await failure(
      client({ email: "ops-bot@example.com", apiToken: "ops-only" }).issues.getIssue({
        issueIdOrKey: "HR-1",
      }),
    );
    for (const error of [missing, hidden]) {
      expect(isNotFoundError(error)).toBe(true);
      expect((error as { body: unknown }).body).toEqual({
        errorMessages: ["Issue does not exist or you do not have permission to see it."],
        errors: {},
      });
    }
  });

  it("answers 401 for wrong credentials and 403 for a revoked account", async () => {
    const wrong = await failure(
      client({ email: jira.credentials.email, apiToken: "nope" }).myself.getCurrentUser(),
    );
    expect(isAuthError(wrong)).toBe(true);
    expect((wrong as { body: { errorMessages: string[] } }).body.errorMessages).toHaveLength(1);
    jira.addCredential({ email: "gone@example.com", apiToken: "gone" });
    jira.revokeCredential("gone");
    expect(
      isForbiddenError(
        await failure(client({ email: "gone@example.com", apiToken: "gone" }).myself.getCurrentUser()),
      ),
    ).toBe(true);
  });
});

describe("myself and user search", () => {
  it("answers myself with the token owner's email", async () => {
    const me = await client().myself.getCurrentUser();
    expect(me).toMatchObject({
      emailAddress: jira.credentials.email,
      accountType: "atlassian",
      active: true,
    });
  });

  it("finds users by email, leaving hidden emails out and matching them only in full", async () => {
    const search = (query: string) => client().userSearch.findUsers({ query });
    expect(await search("alice@example.com")).toEqual([
      expect.objectContaining({ displayName: "Alice Example", emailAddress: "alice@example.com" }),
    ]);
    const [harry] = await search("harry@example.com");
    expect(harry).toMatchObject({ displayName: "Hidden Harry" });
    expect(harry?.emailAddress).toBeUndefined();
    expect(await search("harry@")).toEqual([]);
    expect(await search("hid")).toHaveLength(1);
  });

  it("answers an empty list to a token without the browse-users permission", async () => {
    jira.addCredential({ email: "narrow@example.com", apiToken: "narrow", browseUsers: false });
    const found = await client({ email: "narrow@example.com", apiToken: "narrow" }).userSearch.findUsers({
      query: "alice@example.com",
    });
    expect(found).toEqual([]);
  });
});

describe("webhooks", () => {
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });

  afterEach(async () => {
    await receiver.close();
  });

  it("sends jira:issue_updated with the status changelog, signed with X-Hub-Signature", async () => {
    jira.subscribeWebhook({ url: receiver.url, secret: "s3cret" });
    jira.createIssue({ projectKey: "OPS", summary: "Deploy" });
    const [delivery] = await jira.transitionIssue("OPS-1", "Done", "alice@example.com");
    expect(delivery?.outcome).toBe(200);
    const [received] = receiver.received;
    const expected = createHmac("sha256", "s3cret")
      .update(received?.body ?? "")
      .digest("hex");
    expect(received?.headers["x-hub-signature"]).toBe(`sha256=${expected}`);
    expect(received?.headers["x-atlassian-webhook-identifier"]).toBe(delivery?.deliveryId);
    expect(received?.headers["x-atlassian-webhook-flow"]).toBe("Primary");
    const payload = JSON.parse(received?.body.toString("utf8") ?? "{}");
    expect(payload).toMatchObject({
      timestamp: NOW,
      webhookEvent: "jira:issue_updated",
      issue: { key: "OPS-1", fields: { status: { name: "Done", statusCategory: { key: "done" } } } },
      changelog: { items: [{ field: "status", fromString: "To Do", toString: "Done" }] },
    });
  });

  it("sends no signature without a secret, loses dropped deliveries, and retries with the same identifier", async () => {
    jira.subscribeWebhook({ url: receiver.url });
    jira.createIssue({ projectKey: "OPS", summary: "Deploy" });
    jira.dropNextWebhooks(1);
    const [lost] = await jira.transitionIssue("OPS-1", "In Progress");
    expect(lost?.outcome).toBe("dropped");
    expect(receiver.received).toHaveLength(0);

    receiver.respondWith(503);
    const [failed] = await jira.transitionIssue("OPS-1", "Done");
    expect(failed?.outcome).toBe(503);
    receiver.respondWith(200);
    const retried = await jira.redeliverWebhook(failed?.deliveryId ?? "");
    expect(retried.outcome).toBe(200);
    expect(receiver.received.map((r) => r.headers["x-atlassian-webhook-identifier"])).toEqual([
      failed?.deliveryId,
      failed?.deliveryId,
    ]);
    expect(receiver.received[1]?.headers["x-atlassian-webhook-retry"]).toBe("1");
    expect(receiver.received[0]?.headers["x-hub-signature"]).toBeUndefined();
    expect(receiver.received[1]?.body.equals(receiver.received[0]?.body ?? Buffer.alloc(0))).toBe(true);
  });

  it("sends jira:issue_deleted when an issue is deleted", async () => {
    jira.subscribeWebhook({ url: receiver.url, secret: "s3cret" });
    jira.createIssue({ projectKey: "OPS", summary: "Deploy" });
    await jira.deleteIssue("OPS-1");
    expect(JSON.parse(receiver.received[0]?.body.toString("utf8") ?? "{}")).toMatchObject({
      webhookEvent: "jira:issue_deleted",
      issue: { key: "OPS-1" },
    });
    expect(isNotFoundError(await failure(client().issues.getIssue({ issueIdOrKey: "OPS-1" })))).toBe(true);
  });
});

describe("faults", () => {
  it("answers 429 with Retry-After, which jira.js reads into retryAfterMs", async () => {
    jira.failNext("*", { kind: "rate-limit", retryAfterSeconds: 7 });
    const error = await failure(client().myself.getCurrentUser());
    expect(isRateLimitError(error)).toBe(true);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBe(7000);
  });

  it("answers 5xx in Jira's error shape", async () => {
    jira.failNext("GET /rest/api/3/myself", { kind: "server-error", status: 500 });
    const error = await failure(client().myself.getCurrentUser());
    expect(isServerError(error)).toBe(true);
    expect((error as { body: unknown }).body).toEqual({
      errorMessages: ["Internal server error"],
      errors: {},
    });
  });

  it("sends malformed JSON, which jira.js hands back as a string unless schema mismatches throw", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One" });
    jira.failNext("GET /rest/api/3/issue/{issueIdOrKey}", { kind: "malformed" }, 2);
    await expect(client().issues.getIssue({ issueIdOrKey: "OPS-1" })).rejects.toThrow(
      /did not match the schema/,
    );
    const lenient = createCloudClient({
      host: jira.url,
      auth: { type: "basic", ...jira.credentials },
      onSchemaMismatch: "silent",
    });
    expect(typeof (await lenient.issues.getIssue({ issueIdOrKey: "OPS-1" }))).toBe("string");
  });

  it("cuts an answer off half way", async () => {
    jira.createIssue({ projectKey: "OPS", summary: "One" });
    jira.failNext("GET /rest/api/3/issue/{issueIdOrKey}", { kind: "truncated" });
    await expect(client().issues.getIssue({ issueIdOrKey: "OPS-1" })).rejects.toThrow();
  });
});
