import { createHash } from "node:crypto";
import { SlackApiError } from "./errors.js";
import { IdSource, randomHex, TsClock } from "./ids.js";
import type {
  ResponseUrlContext,
  SlackBlock,
  SlackChannel,
  SlackChannelSeed,
  SlackEphemeralMessage,
  SlackMessage,
  SlackUser,
  SlackUserGroupSeed,
  SlackUserSeed,
  SlackView,
} from "./types.js";
import type { ViewInput } from "./validate.js";

// The state of the fake workspace and the rules Slack applies to it. Methods (methods.ts) parse
// arguments and shape answers; this file decides what exists and what changes.

/** Slack: "trigger_id expires 3 seconds after it's sent to your app". */
export const TRIGGER_TTL_MS = 3000;

export type WorkspaceConfig = {
  teamId: string;
  teamName: string;
  teamDomain: string;
  appId: string;
  botId: string;
  botUserId: string;
  botName: string;
  now: () => number;
};

type ChannelRecord = {
  channel: SlackChannel;
  /** undefined: anyone may receive ephemerals here. */
  members: ReadonlySet<string> | undefined;
  botIsMember: boolean;
};

type ViewRecord = { view: SlackView; userId: string | undefined };

type ViewTarget = { viewId?: string | undefined; externalId?: string | undefined };

type TriggerRecord = { issuedAt: number; userId: string | undefined; used: boolean };

export type MessageContent = {
  text: string;
  blocks?: SlackBlock[] | undefined;
  attachments?: unknown[] | undefined;
  thread_ts?: string | undefined;
  metadata?: unknown;
};

function clone<T>(value: T): T {
  return structuredClone(value);
}

function timeZone(tz: string, at: number): { label: string; offset: number } {
  const part = (style: "long" | "longOffset") =>
    new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: style })
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  const offset = /GMT([+-])(\d{2}):(\d{2})/.exec(part("longOffset"));
  const seconds =
    offset === null ? 0 : (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 3600 + Number(offset[3]) * 60);
  return { label: part("long"), offset: seconds };
}

export class Workspace {
  readonly config: WorkspaceConfig;
  readonly ids = new IdSource();
  readonly ts: TsClock;
  readonly #users = new Map<string, SlackUser>();
  readonly #userIdByEmail = new Map<string, string>();
  readonly #groups = new Map<string, SlackUserGroupSeed>();
  readonly #channels = new Map<string, ChannelRecord>();
  readonly #dmByUser = new Map<string, string>();
  readonly #messages = new Map<string, SlackMessage[]>();
  readonly #ephemerals: SlackEphemeralMessage[] = [];
  readonly #views = new Map<string, ViewRecord>();
  readonly #viewIdByExternalId = new Map<string, string>();
  readonly #homeViewIdByUser = new Map<string, string>();
  readonly #homeHistory = new Map<string, SlackView[]>();
  readonly #triggers = new Map<string, TriggerRecord>();
  readonly #responseUrls = new Map<string, ResponseUrlContext>();

  readonly #teamNumber: number;

  constructor(config: WorkspaceConfig) {
    this.config = config;
    this.#teamNumber = createHash("sha256").update(config.teamId).digest().readUInt32BE(0);
    this.ts = new TsClock(config.now);
    this.addUser({
      id: config.botUserId,
      name: config.botName,
      email: "",
      realName: config.teamName,
      isBot: true,
    });
  }

  now(): number {
    return this.config.now();
  }

  // Users and groups

  addUser(seed: SlackUserSeed): SlackUser {
    const realName = seed.realName ?? seed.name;
    const tz = seed.tz ?? "Europe/London";
    const zone = timeZone(tz, this.now());
    const isBot = seed.isBot ?? false;
    const user: SlackUser = {
      id: seed.id,
      team_id: this.config.teamId,
      name: seed.name,
      deleted: seed.deleted ?? false,
      color: "9f69e7",
      real_name: realName,
      tz,
      tz_label: zone.label,
      tz_offset: zone.offset,
      profile: {
        real_name: realName,
        real_name_normalized: realName,
        display_name: seed.name,
        display_name_normalized: seed.name,
        team: this.config.teamId,
        ...(isBot ? { bot_id: this.config.botId, api_app_id: this.config.appId } : { email: seed.email }),
      },
      is_admin: seed.isAdmin ?? false,
      is_owner: false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: isBot,
      is_app_user: false,
      updated: Math.floor(this.now() / 1000),
    };
    const previous = this.#users.get(seed.id);
    if (previous?.profile.email !== undefined) {
      this.#userIdByEmail.delete(previous.profile.email.toLowerCase());
    }
    this.#users.set(seed.id, user);
    if (!isBot && seed.email !== "") {
      this.#userIdByEmail.set(seed.email.toLowerCase(), seed.id);
    }
    return clone(user);
  }

  user(id: string): SlackUser | undefined {
    const user = this.#users.get(id);
    return user === undefined ? undefined : clone(user);
  }

  requireUser(id: string): SlackUser {
    const user = this.user(id);
    if (user === undefined) {
      throw new SlackApiError("user_not_found");
    }
    return user;
  }

  userByEmail(email: string): SlackUser | undefined {
    const id = this.#userIdByEmail.get(email.toLowerCase());
    return id === undefined ? undefined : this.user(id);
  }

  addUserGroup(seed: SlackUserGroupSeed): void {
    this.#groups.set(seed.id, { ...seed, users: [...seed.users] });
  }

  groupMembers(id: string): string[] {
    const group = this.#groups.get(id);
    if (group === undefined) {
      throw new SlackApiError("no_such_subteam");
    }
    return [...group.users];
  }

  // Conversations

  addChannel(seed: SlackChannelSeed): SlackChannel {
    const isPrivate = seed.isPrivate ?? false;
    const channel: SlackChannel = {
      id: seed.id,
      name: seed.name,
      is_channel: !isPrivate,
      is_group: isPrivate,
      is_im: false,
      is_private: isPrivate,
      is_archived: seed.isArchived ?? false,
    };
    this.#channels.set(seed.id, {
      channel,
      members: seed.members === undefined ? undefined : new Set(seed.members),
      botIsMember: seed.botIsMember ?? true,
    });
    return clone(channel);
  }

  channel(id: string): SlackChannel | undefined {
    const record = this.#channels.get(id);
    return record === undefined ? undefined : clone(record.channel);
  }

  /** The bot's IM with a user: one per user, the same id every time (as Slack keeps it). */
  openDm(userId: string): { id: string; alreadyOpen: boolean; created: number } {
    const existing = this.#dmByUser.get(userId);
    if (existing !== undefined) {
      return { id: existing, alreadyOpen: true, created: 0 };
    }
    const id = this.ids.next("D");
    this.#dmByUser.set(userId, id);
    this.#channels.set(id, {
      channel: {
        id,
        name: "directmessage",
        is_channel: false,
        is_group: false,
        is_im: true,
        is_private: true,
        is_archived: false,
        user: userId,
      },
      members: new Set([userId, this.config.botUserId]),
      botIsMember: true,
    });
    return { id, alreadyOpen: false, created: Math.floor(this.now() / 1000) };
  }

  /**
   * Finds the conversation a chat.* call names. Slack accepts a user id for chat.postMessage
   * (the message lands in the bot's DM with them) and a channel name; updates need the id.
   */
  resolveChannel(ref: string, options: { allowUserOrName: boolean }): SlackChannel {
    const direct = this.#channels.get(ref);
    if (direct !== undefined) {
      return direct.channel;
    }
    if (options.allowUserOrName) {
      if (this.#users.has(ref)) {
        return this.#requireChannel(this.openDm(ref).id).channel;
      }
      const name = ref.startsWith("#") ? ref.slice(1) : ref;
      for (const record of this.#channels.values()) {
        if (!record.channel.is_im && record.channel.name === name) {
          return record.channel;
        }
      }
    }
    throw new SlackApiError("channel_not_found");
  }

  #requireChannel(id: string): ChannelRecord {
    const record = this.#channels.get(id);
    if (record === undefined) {
      throw new SlackApiError("channel_not_found");
    }
    return record;
  }

  // Messages

  /** `viaResponseUrl`: an in_channel reply to an interaction, which needs no membership. */
  postMessage(channelId: string, content: MessageContent, viaResponseUrl = false): SlackMessage {
    const record = this.#requireChannel(channelId);
    if (record.channel.is_archived) {
      throw new SlackApiError("is_archived");
    }
    if (!record.botIsMember && !viaResponseUrl) {
      throw new SlackApiError("not_in_channel");
    }
    const message: SlackMessage = {
      type: "message",
      channel: channelId,
      ts: this.ts.next(),
      text: content.text,
      blocks: content.blocks ?? [],
      user: this.config.botUserId,
      bot_id: this.config.botId,
      app_id: this.config.appId,
      team: this.config.teamId,
    };
    if (content.attachments !== undefined) {
      message.attachments = content.attachments;
    }
    if (content.thread_ts !== undefined) {
      message.thread_ts = content.thread_ts;
    }
    if (content.metadata !== undefined) {
      message.metadata = content.metadata;
    }
    const list = this.#messages.get(channelId) ?? [];
    list.push(message);
    this.#messages.set(channelId, list);
    return clone(message);
  }

  /**
   * chat.update semantics: text is replaced; blocks and attachments are kept unless given (an
   * empty array removes them).
   */
  updateMessage(channelId: string, ts: string, content: Partial<MessageContent>): SlackMessage {
    this.#requireChannel(channelId);
    const message = this.#messages.get(channelId)?.find((m) => m.ts === ts);
    if (message === undefined) {
      throw new SlackApiError("message_not_found");
    }
    if (message.user !== this.config.botUserId) {
      throw new SlackApiError("cant_update_message");
    }
    message.text = content.text ?? "";
    if (content.blocks !== undefined) {
      message.blocks = content.blocks;
    }
    if (content.attachments !== undefined) {
      message.attachments = content.attachments;
    }
    if (content.metadata !== undefined) {
      message.metadata = content.metadata;
    }
    message.edited = { user: this.config.botUserId, ts: this.ts.next() };
    return clone(message);
  }

  deleteMessage(channelId: string, ts: string): void {
    const list = this.#messages.get(channelId);
    const index = list?.findIndex((m) => m.ts === ts) ?? -1;
    if (list === undefined || index < 0) {
      throw new SlackApiError("message_not_found");
    }
    list.splice(index, 1);
  }

  message(channelId: string, ts: string): SlackMessage | undefined {
    const message = this.#messages.get(channelId)?.find((m) => m.ts === ts);
    return message === undefined ? undefined : clone(message);
  }

  messages(channelId?: string): SlackMessage[] {
    const lists =
      channelId === undefined ? [...this.#messages.values()] : [this.#messages.get(channelId) ?? []];
    return clone(lists.flat().sort((a, b) => compareTs(a.ts, b.ts)));
  }

  postEphemeral(
    channelId: string,
    userId: string,
    content: MessageContent,
    via: SlackEphemeralMessage["via"],
  ): SlackEphemeralMessage {
    const record = this.#requireChannel(channelId);
    this.requireUser(userId);
    // A response URL always reaches the user who interacted, wherever they are.
    if (via === "chat.postEphemeral" && record.members !== undefined && !record.members.has(userId)) {
      throw new SlackApiError("user_not_in_channel");
    }
    const ephemeral: SlackEphemeralMessage = {
      channel: channelId,
      user: userId,
      message_ts: this.ts.next(),
      text: content.text,
      blocks: content.blocks ?? [],
      via,
    };
    if (content.thread_ts !== undefined) {
      ephemeral.thread_ts = content.thread_ts;
    }
    this.#ephemerals.push(ephemeral);
    return clone(ephemeral);
  }

  ephemerals(channelId?: string): SlackEphemeralMessage[] {
    return clone(this.#ephemerals.filter((e) => channelId === undefined || e.channel === channelId));
  }

  // Triggers and response URLs

  issueTrigger(userId: string | undefined): string {
    // Slack's shape: "<sequence>.<team number>.<hex>", e.g. 13345224609.738474920.8088930838d88f008e0.
    const id = `${10_000_000_000 + this.ids.count("trigger")}.${this.#teamNumber}.${randomHex(10)}`;
    this.#triggers.set(id, { issuedAt: this.now(), userId, used: false });
    return id;
  }

  /** views.open/push: a trigger works once, for TRIGGER_TTL_MS. */
  consumeTrigger(id: string): { userId: string | undefined } {
    const trigger = this.#triggers.get(id);
    if (trigger === undefined) {
      throw new SlackApiError("invalid_trigger_id");
    }
    if (trigger.used) {
      throw new SlackApiError("exchanged_trigger_id");
    }
    if (this.now() - trigger.issuedAt > TRIGGER_TTL_MS) {
      throw new SlackApiError("expired_trigger_id");
    }
    trigger.used = true;
    return { userId: trigger.userId };
  }

  issueResponseUrl(context: ResponseUrlContext): string {
    const path = `/hooks/${context.kind}/${this.config.teamId}/${this.ids.count("response_url")}/${randomHex(12)}`;
    this.#responseUrls.set(path, { ...context });
    return path;
  }

  responseUrl(path: string): ResponseUrlContext | undefined {
    return this.#responseUrls.get(path);
  }

  // Views

  #newHash(): string {
    return `${Math.floor(this.now() / 1000)}.${randomHex(4)}`;
  }

  #buildView(input: ViewInput, id: string, rootViewId: string, previousViewId: string | null): SlackView {
    const view: SlackView = {
      id,
      team_id: this.config.teamId,
      type: input.type,
      blocks: input.blocks,
      private_metadata: input.private_metadata,
      callback_id: input.callback_id,
      external_id: input.external_id,
      state: { values: {} },
      hash: this.#newHash(),
      clear_on_close: input.clear_on_close,
      notify_on_close: input.notify_on_close,
      root_view_id: rootViewId,
      previous_view_id: previousViewId,
      app_id: this.config.appId,
      app_installed_team_id: this.config.teamId,
      bot_id: this.config.botId,
    };
    if (input.type === "modal") {
      view.title = input.title;
      view.submit = input.submit ?? null;
      view.close = input.close ?? null;
    } else {
      view.close = null;
      view.submit = null;
    }
    return view;
  }

  #claimExternalId(externalId: string, viewId: string): void {
    if (externalId === "") {
      return;
    }
    const owner = this.#viewIdByExternalId.get(externalId);
    if (owner !== undefined && owner !== viewId) {
      throw new SlackApiError("duplicate_external_id");
    }
    this.#viewIdByExternalId.set(externalId, viewId);
  }

  /** views.open (no parent) and views.push (stacked on the user's latest modal). */
  openView(userId: string | undefined, input: ViewInput, push: boolean): SlackView {
    const id = this.ids.next("V");
    const parent = push ? this.#latestModal(userId) : undefined;
    this.#claimExternalId(input.external_id, id);
    const view = this.#buildView(input, id, parent?.root_view_id ?? id, parent?.id ?? null);
    this.#views.set(id, { view, userId });
    return clone(view);
  }

  #latestModal(userId: string | undefined): SlackView | undefined {
    let latest: SlackView | undefined;
    for (const record of this.#views.values()) {
      if (record.userId === userId && record.view.type === "modal") {
        latest = record.view;
      }
    }
    return latest;
  }

  #resolveView(target: ViewTarget): ViewRecord {
    const id =
      target.viewId ??
      (target.externalId === undefined ? undefined : this.#viewIdByExternalId.get(target.externalId));
    const record = id === undefined ? undefined : this.#views.get(id);
    if (record === undefined) {
      throw new SlackApiError("not_found");
    }
    return record;
  }

  /** The view views.update would change (not_found otherwise). */
  resolveView(target: ViewTarget): SlackView {
    return clone(this.#resolveView(target).view);
  }

  updateView(target: ViewTarget, input: ViewInput, hash?: string): SlackView {
    const record = this.#resolveView(target);
    if (hash !== undefined && hash !== record.view.hash) {
      throw new SlackApiError("hash_conflict");
    }
    const externalId = input.external_id === "" ? record.view.external_id : input.external_id;
    this.#claimExternalId(externalId, record.view.id);
    const view = this.#buildView(
      { ...input, external_id: externalId },
      record.view.id,
      record.view.root_view_id,
      record.view.previous_view_id,
    );
    record.view = view;
    if (view.type === "home" && record.userId !== undefined) {
      this.#homeHistory.get(record.userId)?.push(view);
    }
    return clone(view);
  }

  publishHome(userId: string, input: ViewInput, hash?: string): SlackView {
    const existingId = this.#homeViewIdByUser.get(userId);
    const existing = existingId === undefined ? undefined : this.#views.get(existingId);
    if (existing !== undefined && hash !== undefined && hash !== existing.view.hash) {
      throw new SlackApiError("hash_conflict");
    }
    const id = existingId ?? this.ids.next("V");
    this.#claimExternalId(input.external_id, id);
    const view = this.#buildView(input, id, id, null);
    this.#views.set(id, { view, userId });
    this.#homeViewIdByUser.set(userId, id);
    const history = this.#homeHistory.get(userId) ?? [];
    history.push(view);
    this.#homeHistory.set(userId, history);
    return clone(view);
  }

  view(id: string): SlackView | undefined {
    const record = this.#views.get(id);
    return record === undefined ? undefined : clone(record.view);
  }

  modalViews(userId?: string): SlackView[] {
    return clone(
      [...this.#views.values()]
        .filter(
          (record) => record.view.type === "modal" && (userId === undefined || record.userId === userId),
        )
        .map((record) => record.view),
    );
  }

  homeViews(userId: string): SlackView[] {
    return clone(this.#homeHistory.get(userId) ?? []);
  }
}

/** Orders Slack `ts` strings numerically without floating-point rounding. */
function compareTs(a: string, b: string): number {
  const [aSec = "0", aFrac = "0"] = a.split(".");
  const [bSec = "0", bFrac = "0"] = b.split(".");
  return Number(aSec) - Number(bSec) || Number(aFrac.padEnd(6, "0")) - Number(bFrac.padEnd(6, "0"));
}
