import { type SlackFake, startSlackFake } from "@keyturn/testkit/slack-fake";
import type { PinnedSlackIdentity, SlackIdentityStore } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackIdentity } from "./identity.js";
import { createSlackWebClient } from "./web-client.js";

// Who a Slack user is, decided between what Slack says (the real WebClient against the fake
// Slack over HTTP) and what Keyturn has pinned. The store is a table of the moment each case is
// about: a person's row made by a concurrent first action of theirs between the two lookups.

let fake: SlackFake;

beforeAll(async () => {
  fake = await startSlackFake();
  fake.addUser({ id: "U0SAM", name: "sam", email: "sam@example.com" });
});
afterAll(async () => {
  await fake.close();
});

/** No row for the Slack user when first asked; by email, the row as it is after the other action. */
function storeAfterConcurrentAction(row: PinnedSlackIdentity): SlackIdentityStore & { pins: number } {
  const store = {
    pins: 0,
    findBySlackUserId: async () => null,
    findByEmail: async (email: string) => (email === row.email ? row : null),
    pinSlackUserId: async () => {
      store.pins++;
      return "already_pinned" as const;
    },
  };
  return store;
}

const identityWith = (store: SlackIdentityStore) =>
  createSlackIdentity({ client: createSlackWebClient({ token: fake.botToken, apiUrl: fake.url }), store });

describe("resolving a Slack user whose row another action of theirs has just made", () => {
  it("takes a row pinned to the same Slack user as theirs (no conflict with themselves)", async () => {
    const store = storeAfterConcurrentAction({ id: "i-1", email: "sam@example.com", slackUserId: "U0SAM" });
    const resolved = await identityWith(store).resolve("U0SAM");
    expect(resolved).toMatchObject({ ok: true, email: "sam@example.com" });
    expect(store.pins).toBe(0);
  });

  it("refuses a row pinned to another Slack user", async () => {
    const store = storeAfterConcurrentAction({ id: "i-1", email: "sam@example.com", slackUserId: "U0TWIN" });
    const resolved = await identityWith(store).resolve("U0SAM");
    expect(resolved).toMatchObject({ ok: false, code: "SLACK_IDENTITY_CONFLICT" });
  });

  it("pins an unpinned row of their email", async () => {
    const store = storeAfterConcurrentAction({ id: "i-1", email: "sam@example.com", slackUserId: null });
    expect(await identityWith(store).resolve("U0SAM")).toMatchObject({ ok: true });
    expect(store.pins).toBe(1);
  });
});
