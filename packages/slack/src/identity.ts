import type { Clock, Principal, SlackIdentityStore, SlackPinOutcome } from "@keyturn/usecases";
import type { WebClient } from "@slack/web-api";
import { callSlack, SlackCallError } from "./slack-api-errors.js";

// Who is clicking: a Slack user id becomes a Keyturn Principal (email + Slack ids + groups).
// The first time, the email comes from Slack's profile (users.info); after that the Slack id is
// pinned to the identity, and the pinned email is what counts: changing one's Slack email cannot
// redirect access, and a collision is refused instead of guessed.

export const SLACK_IDENTITY_REFUSALS = [
  "SLACK_USER_NOT_FOUND",
  "SLACK_USER_IS_BOT",
  "SLACK_USER_DEACTIVATED",
  "SLACK_USER_NO_EMAIL",
  "SLACK_IDENTITY_CONFLICT",
] as const;
export type SlackIdentityRefusalCode = (typeof SLACK_IDENTITY_REFUSALS)[number];

export type SlackIdentityResult =
  | { ok: true; principal: Principal; email: string; pinned: boolean }
  | { ok: false; code: SlackIdentityRefusalCode; message: string };

export type SlackIdentity = {
  /** `groups`: the Slack user groups the caller's flows name; membership is looked up for those only. */
  resolve(slackUserId: string, options?: { groups?: readonly string[] }): Promise<SlackIdentityResult>;
  /** Pins a Slack user to the identity of their email, once the identity exists (after an action). */
  pin(slackUserId: string, email: string): Promise<SlackPinOutcome>;
  /** Which of `groupIds` the user belongs to (usergroups.users.list, cached briefly). */
  memberships(slackUserId: string, groupIds: readonly string[]): Promise<string[]>;
};

export type SlackIdentityOptions = {
  client: WebClient;
  /** The pinned identities (packages/db: createSlackIdentityStore). */
  store: SlackIdentityStore;
  clock?: Clock;
  /** How long group member lists are reused; group changes take at most this long to count. */
  groupCacheTtlMs?: number;
};

type CachedGroup = { at: number; members: Promise<ReadonlySet<string>> };

const refuse = (code: SlackIdentityRefusalCode, message: string): SlackIdentityResult => ({
  ok: false,
  code,
  message,
});

export function slackPrincipal(email: string, slackUserId: string, groups: readonly string[]): Principal {
  return {
    email,
    slackUserId,
    slackGroupIds: groups,
    audit: { type: "identity", id: email, label: `slack:${slackUserId}` },
  };
}

export function createSlackIdentity(options: SlackIdentityOptions): SlackIdentity {
  const { client, store } = options;
  const now = () => (options.clock ?? { now: () => new Date() }).now();
  const ttl = options.groupCacheTtlMs ?? 60_000;
  const groups = new Map<string, CachedGroup>();

  const groupMembers = (groupId: string): Promise<ReadonlySet<string>> => {
    const cached = groups.get(groupId);
    if (cached !== undefined && now().getTime() - cached.at < ttl) {
      return cached.members;
    }
    const members = callSlack("usergroups.users.list", () =>
      client.usergroups.users.list({ usergroup: groupId }),
    ).then(
      (answer) => new Set(answer.users ?? []) as ReadonlySet<string>,
      (error: unknown) => {
        groups.delete(groupId);
        // A group that no longer exists grants nobody anything; anything else is retried later.
        if (error instanceof SlackCallError && error.slackError === "no_such_subteam") {
          return new Set<string>() as ReadonlySet<string>;
        }
        throw error;
      },
    );
    groups.set(groupId, { at: now().getTime(), members });
    return members;
  };

  const memberships: SlackIdentity["memberships"] = async (slackUserId, groupIds) => {
    const unique = [...new Set(groupIds)];
    const lists = await Promise.all(unique.map(groupMembers));
    return unique.filter((_, i) => lists[i]?.has(slackUserId) === true);
  };

  const emailFromSlack = async (slackUserId: string): Promise<SlackIdentityResult | string> => {
    let user: Awaited<ReturnType<WebClient["users"]["info"]>>["user"];
    try {
      user = (await callSlack("users.info", () => client.users.info({ user: slackUserId }))).user;
    } catch (error) {
      if (error instanceof SlackCallError && error.slackError === "user_not_found") {
        return refuse(
          "SLACK_USER_NOT_FOUND",
          "Slack does not know your user; try again from your own account.",
        );
      }
      throw error;
    }
    if (user === undefined) {
      return refuse(
        "SLACK_USER_NOT_FOUND",
        "Slack does not know your user; try again from your own account.",
      );
    }
    if (user.is_bot === true || user.profile?.bot_id !== undefined || slackUserId === "USLACKBOT") {
      return refuse("SLACK_USER_IS_BOT", "Bots and apps cannot request or approve access; a person has to.");
    }
    if (user.deleted === true) {
      return refuse("SLACK_USER_DEACTIVATED", "Your Slack account is deactivated.");
    }
    const email = user.profile?.email?.trim().toLowerCase();
    if (email === undefined || email === "") {
      return refuse(
        "SLACK_USER_NO_EMAIL",
        "Keyturn cannot see an email address on your Slack profile, and needs it to find your AWS " +
          "identity. Ask a Slack admin to make sure your account has an email (guest accounts may not).",
      );
    }
    return email;
  };

  return {
    memberships,
    pin: (slackUserId, email) => store.pinSlackUserId({ email, slackUserId, at: now() }),
    async resolve(slackUserId, { groups: wanted = [] } = {}) {
      const pinned = await store.findBySlackUserId(slackUserId);
      let email: string;
      if (pinned !== null) {
        email = pinned.email;
      } else {
        const fromSlack = await emailFromSlack(slackUserId);
        if (typeof fromSlack !== "string") {
          return fromSlack;
        }
        email = fromSlack;
        const existing = await store.findByEmail(email);
        // Pinned meanwhile to this same Slack user (a concurrent first action of theirs made the
        // row) is no conflict; pinned to another Slack user is.
        if (
          existing?.slackUserId !== null &&
          existing?.slackUserId !== undefined &&
          existing.slackUserId !== slackUserId
        ) {
          return refuse(
            "SLACK_IDENTITY_CONFLICT",
            `Your Slack email ${email} already belongs to another Slack account in Keyturn. ` +
              "Ask a Keyturn admin to check the identity mapping before you request or approve access.",
          );
        }
        if (existing !== null && existing.slackUserId === null) {
          // Pin now; a first-time user is pinned by their first successful action instead, so
          // a refused click never leaves an identity row behind.
          await store.pinSlackUserId({ email, slackUserId, at: now() });
        }
      }
      const member = wanted.length === 0 ? [] : await memberships(slackUserId, wanted);
      return {
        ok: true,
        principal: slackPrincipal(email, slackUserId, member),
        email,
        pinned: pinned !== null,
      };
    },
  };
}
