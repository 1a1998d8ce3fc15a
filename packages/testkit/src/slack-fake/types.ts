// Public types of the fake Slack Web API and the signed client. Objects the fake hands back
// (users, messages, views) use Slack's own snake_case wire shapes, so what a test inspects is what
// Bolt would have received, and a stored view can be fed straight back into a view submission.

import type { SocketModeServer } from "./socket-mode.js";

export type JsonObject = { [key: string]: unknown };

/** A Block Kit block as Slack echoes it back. */
export type SlackBlock = { type: string; block_id?: string; [key: string]: unknown };

/** The body of every Web API answer: `{ ok: true, ... }` or `{ ok: false, error }`. */
export type SlackResponse = { ok: boolean; error?: string; [key: string]: unknown };

export type SlackFakeOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The only token the fake accepts. Default `xoxb-keyturn-test-token`. */
  botToken?: string;
  /** The app-level token apps.connections.open accepts (Socket Mode). Default `xapp-1-...`. */
  appToken?: string;
  teamId?: string;
  teamName?: string;
  teamDomain?: string;
  appId?: string;
  botId?: string;
  botUserId?: string;
  /** Milliseconds since the epoch; drives `ts` values, trigger expiry and `at` on calls. */
  now?: () => number;
};

export type SlackUserSeed = {
  id: string;
  name: string;
  email: string;
  realName?: string;
  isBot?: boolean;
  deleted?: boolean;
  /** IANA zone, default `Europe/London`. */
  tz?: string;
  isAdmin?: boolean;
};

export type SlackUserGroupSeed = { id: string; handle: string; name?: string; users: readonly string[] };

export type SlackChannelSeed = {
  id: string;
  name: string;
  /** When given, chat.postEphemeral to anyone else answers `user_not_in_channel`. */
  members?: readonly string[];
  /** false makes chat.postMessage answer `not_in_channel`. Default true. */
  botIsMember?: boolean;
  isPrivate?: boolean;
  isArchived?: boolean;
};

/** users.info's `user`. */
export type SlackUser = {
  id: string;
  team_id: string;
  name: string;
  deleted: boolean;
  color: string;
  real_name: string;
  tz: string;
  tz_label: string;
  tz_offset: number;
  profile: {
    real_name: string;
    real_name_normalized: string;
    display_name: string;
    display_name_normalized: string;
    email?: string;
    team: string;
    bot_id?: string;
    api_app_id?: string;
  };
  is_admin: boolean;
  is_owner: boolean;
  is_primary_owner: boolean;
  is_restricted: boolean;
  is_ultra_restricted: boolean;
  is_bot: boolean;
  is_app_user: boolean;
  updated: number;
};

export type SlackChannel = {
  id: string;
  name: string;
  is_channel: boolean;
  is_group: boolean;
  is_im: boolean;
  is_private: boolean;
  is_archived: boolean;
  /** The other party of a DM. */
  user?: string;
};

/** A message as it stands now (after chat.update / response_url replacements). */
export type SlackMessage = {
  type: "message";
  channel: string;
  ts: string;
  text: string;
  blocks: SlackBlock[];
  attachments?: unknown[];
  thread_ts?: string;
  metadata?: unknown;
  user: string;
  bot_id: string;
  app_id: string;
  team: string;
  edited?: { user: string; ts: string };
};

export type SlackEphemeralMessage = {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks: SlackBlock[];
  thread_ts?: string;
  /** Where it came from: chat.postEphemeral or a response_url post. */
  via: "chat.postEphemeral" | "response_url";
};

export type SlackStateValue = { type: string; [key: string]: unknown };
/** `view.state.values`: block_id -> action_id -> value. */
export type SlackStateValues = Record<string, Record<string, SlackStateValue>>;

export type SlackView = {
  id: string;
  team_id: string;
  type: string;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  blocks: SlackBlock[];
  private_metadata: string;
  callback_id: string;
  external_id: string;
  state: { values: SlackStateValues };
  hash: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
  root_view_id: string;
  previous_view_id: string | null;
  app_id: string;
  app_installed_team_id: string;
  bot_id: string;
};

export type SlackCall = {
  /** Web API method (`chat.postMessage`), or `response_url` for posts to a response URL. */
  method: string;
  /** Arguments with `blocks`, `view`, `attachments` and `metadata` parsed from JSON; no token. */
  args: JsonObject;
  /** How the arguments arrived. */
  encoding: "form" | "json" | "query";
  /** `now()` when the call was received. */
  at: number;
  status: number;
  response: SlackResponse;
  /** Set on `response_url` calls. */
  responseUrl?: string;
};

export type SlackCallFilter = string | ((call: SlackCall) => boolean);

export type SlackFault = {
  /** Slack's error string; `ratelimited` implies HTTP 429 unless `status` says otherwise. */
  error: string;
  /** HTTP status; default 200 (Slack reports most errors in a 200 body), 429 for `ratelimited`. */
  status?: number;
  /** Sent as `Retry-After`; default 1 on a 429. */
  retryAfterSeconds?: number;
  /** How many of the next calls fail; default 1. */
  count?: number;
};

export type ResponseUrlContext = {
  kind: "commands" | "actions";
  channelId: string;
  userId: string;
  /** The message the interaction came from, for `replace_original` / `delete_original`. */
  messageTs?: string;
};

export type SlackFake = {
  /** Base for `clientOptions.slackApiUrl`: `http://127.0.0.1:PORT/api/`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`, where response URLs live. */
  readonly origin: string;
  readonly botToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botId: string;
  readonly botUserId: string;

  addUser(user: SlackUserSeed): SlackUser;
  addUserGroup(group: SlackUserGroupSeed): void;
  addChannel(channel: SlackChannelSeed): SlackChannel;
  user(id: string): SlackUser | undefined;
  channel(id: string): SlackChannel | undefined;
  /** The bot's DM channel with a user (what conversations.open returns), opened if need be. */
  dmChannelId(userId: string): string;

  calls(filter?: SlackCallFilter): SlackCall[];
  clearCalls(): void;
  /**
   * Resolves with the first call to `method` (recorded since the last `clearCalls()`, before or
   * after this call) that satisfies `predicate`.
   */
  waitForCall(
    method: string,
    predicate?: (call: SlackCall) => boolean,
    timeoutMs?: number,
  ): Promise<SlackCall>;

  messages(channel?: string): SlackMessage[];
  ephemeralMessages(channel?: string): SlackEphemeralMessage[];
  /** Modal views as they stand now, in the order they were opened; optionally one user's. */
  views(userId?: string): SlackView[];
  /** Every version published to a user's Home tab, oldest first (the last is what they see). */
  homeViews(userId: string): SlackView[];

  /** A trigger id that views.open/views.push accept once, within 3 s of fake time. */
  newTriggerId(userId?: string): string;
  /** A response URL on the fake; posts to it are recorded as `response_url` calls. */
  newResponseUrl(context: ResponseUrlContext): string;

  /** Makes the next `count` calls to `method` (or `*` for any) fail. */
  failNext(method: string, fault: SlackFault): void;
  /** Slack's side of Socket Mode: the app connects with the app token and gets envelopes. */
  readonly socketMode: SocketModeServer;
  close(): Promise<void>;
};
