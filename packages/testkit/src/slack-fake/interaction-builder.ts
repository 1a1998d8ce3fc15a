import { randomHex, TsClock } from "./ids.js";
import {
  type ActionSource,
  blockActionsPayload,
  completeView,
  findElement,
  type PayloadTeam,
  type PayloadUser,
  slashCommandForm,
  viewClosedPayload,
  viewSubmissionPayload,
} from "./interaction-payloads.js";
import type { JsonObject, SlackFake, SlackStateValues, SlackView } from "./types.js";

// What Slack sends an app for a slash command or an interaction, whatever carries it: the signed
// HTTP client posts it to a request URL, the Socket Mode server wraps it in an envelope. With a
// fake, users, channels, messages and views are looked up, and trigger ids and response URLs are
// ones the fake accepts.

export type InteractionBuilderOptions = {
  /** With a fake: trigger ids it accepts, response URLs it records, users/messages/views it knows. */
  fake?: SlackFake;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  /** The legacy verification token Slack still puts in every payload. */
  verificationToken?: string;
  /**
   * Milliseconds since the epoch, for action timestamps and view hashes (and, for the signed
   * client, `X-Slack-Request-Timestamp`, which Bolt compares with its own clock).
   */
  now?: () => number;
};

export type SlashCommandInput = {
  command: string;
  text?: string;
  userId: string;
  userName?: string;
  /** Default: the user's DM with the app (from the fake), where `/access` is typed most. */
  channelId?: string;
  channelName?: string;
  triggerId?: string;
  responseUrl?: string;
};

export type ViewInputPayload = JsonObject & {
  id?: string;
  callback_id?: string;
  private_metadata?: string;
  state?: { values: SlackStateValues };
};

export type ViewSubmissionInput = {
  userId: string;
  userName?: string;
  /** With an `id` the fake knows, the stored view is sent with these fields on top. */
  view: ViewInputPayload & { state: { values: SlackStateValues } };
  triggerId?: string;
};

export type ViewClosedInput = {
  userId: string;
  userName?: string;
  view: ViewInputPayload;
  isCleared?: boolean;
};

export type BlockActionInput = {
  userId: string;
  userName?: string;
  actionId: string;
  /** Default: the block holding `actionId` in the message or view. */
  blockId?: string;
  /** Default: the clicked element's `value`. */
  value?: string;
  /** Default: the element's type, else `button`. */
  actionType?: string;
  /** Extra action fields, e.g. `selected_option` for a select. */
  action?: JsonObject;
  /** A click on a message: its channel and ts (with a fake, the message is looked up). */
  channelId?: string;
  messageTs?: string;
  /** A click inside a modal or the Home tab: the view (an `id` the fake knows is enough). */
  view?: ViewInputPayload;
  triggerId?: string;
  responseUrl?: string;
};

export class SlackInteractionBuilder {
  readonly #fake: SlackFake | undefined;
  readonly #team: PayloadTeam;
  readonly #now: () => number;
  readonly #actionClock: TsClock;

  constructor(options: InteractionBuilderOptions) {
    this.#fake = options.fake;
    this.#now = options.now ?? Date.now;
    this.#actionClock = new TsClock(this.#now);
    this.#team = {
      teamId: options.teamId ?? options.fake?.teamId ?? "T0KEYTURN",
      teamDomain: options.teamDomain ?? options.fake?.teamDomain ?? "keyturn",
      appId: options.appId ?? options.fake?.appId ?? "A0KEYTURN",
      verificationToken: options.verificationToken ?? "keyturn-verification-token",
    };
  }

  /** A slash command's fields, in Slack's order (a form body over HTTP, an object over a socket). */
  slashCommand(input: SlashCommandInput): URLSearchParams {
    const fake = this.#fake;
    const user = this.#user(input.userId, input.userName);
    const channelId = input.channelId ?? fake?.dmChannelId(input.userId) ?? "C0GENERAL";
    const channelName =
      input.channelName ??
      fake?.channel(channelId)?.name ??
      (channelId.startsWith("D") ? "directmessage" : "general");
    return slashCommandForm(this.#team, {
      channelId,
      channelName,
      user,
      command: input.command,
      text: input.text ?? "",
      responseUrl:
        input.responseUrl ??
        fake?.newResponseUrl({ kind: "commands", channelId, userId: input.userId }) ??
        this.#hooksUrl("commands"),
      triggerId: input.triggerId ?? this.#triggerId(input.userId),
    });
  }

  viewSubmission(input: ViewSubmissionInput): JsonObject {
    return viewSubmissionPayload(this.#team, {
      user: this.#user(input.userId, input.userName),
      triggerId: input.triggerId ?? this.#triggerId(input.userId),
      view: this.#view(input.userId, input.view),
    });
  }

  viewClosed(input: ViewClosedInput): JsonObject {
    return viewClosedPayload(this.#team, {
      user: this.#user(input.userId, input.userName),
      view: this.#view(input.userId, input.view),
      isCleared: input.isCleared ?? false,
    });
  }

  blockAction(input: BlockActionInput): JsonObject {
    const source = this.#actionSource(input);
    const blocks = source.kind === "view" ? source.view.blocks : (source.message?.blocks ?? []);
    const found = findElement(blocks, input.actionId, { blockId: input.blockId, value: input.value });
    const element = found?.element ?? {};
    const action: JsonObject = {
      action_id: input.actionId,
      block_id: input.blockId ?? found?.blockId ?? "block",
      type: input.actionType ?? (typeof element.type === "string" ? element.type : "button"),
      action_ts: this.#actionClock.next(),
    };
    for (const field of ["text", "value", "style"] as const) {
      if (element[field] !== undefined) {
        action[field] = element[field];
      }
    }
    if (input.value !== undefined) {
      action.value = input.value;
    }
    return blockActionsPayload(this.#team, {
      user: this.#user(input.userId, input.userName),
      triggerId: input.triggerId ?? this.#triggerId(input.userId),
      source,
      action: { ...action, ...input.action },
    });
  }

  #user(userId: string, userName: string | undefined): PayloadUser {
    const name = userName ?? this.#fake?.user(userId)?.name ?? userId.toLowerCase();
    return { id: userId, username: name, name, team_id: this.#team.teamId };
  }

  #triggerId(userId: string): string {
    return this.#fake?.newTriggerId(userId) ?? `${Date.now()}.${randomHex(5)}.${randomHex(16)}`;
  }

  #hooksUrl(kind: "commands" | "actions"): string {
    return `https://hooks.slack.com/${kind}/${this.#team.teamId}/${Date.now()}/${randomHex(12)}`;
  }

  #view(userId: string, input: ViewInputPayload): SlackView {
    const fake = this.#fake;
    const stored =
      input.id === undefined || fake === undefined
        ? undefined
        : (fake.views().find((view) => view.id === input.id) ??
          fake.homeViews(userId).findLast((view) => view.id === input.id));
    return completeView(stored, input, {
      id: `V${randomHex(5).toUpperCase()}`,
      teamId: this.#team.teamId,
      appId: this.#team.appId,
      botId: fake?.botId ?? "B0KEYTURN",
      hash: `${Math.floor(this.#now() / 1000)}.${randomHex(4)}`,
    });
  }

  #actionSource(input: BlockActionInput): ActionSource {
    if (input.view !== undefined) {
      return { kind: "view", view: this.#view(input.userId, input.view) };
    }
    const fake = this.#fake;
    const channelId = input.channelId ?? fake?.dmChannelId(input.userId) ?? "C0GENERAL";
    const channelName =
      fake?.channel(channelId)?.name ?? (channelId.startsWith("D") ? "directmessage" : "general");
    // Without a message ts the click came from an ephemeral message, which Slack does not echo.
    const stored =
      input.messageTs === undefined
        ? undefined
        : fake?.messages(channelId).find((message) => message.ts === input.messageTs);
    let message: (ActionSource & { kind: "message" })["message"];
    if (stored !== undefined) {
      const { channel: _channel, ...rest } = stored;
      message = rest;
    } else if (input.messageTs !== undefined) {
      message = {
        type: "message",
        ts: input.messageTs,
        text: "",
        blocks: [],
        user: fake?.botUserId ?? "U0KEYTURNBOT",
        bot_id: fake?.botId ?? "B0KEYTURN",
        app_id: this.#team.appId,
        team: this.#team.teamId,
      };
    }
    const messageTs = input.messageTs ?? this.#actionClock.next();
    return {
      kind: "message",
      channel: { id: channelId, name: channelName },
      message,
      messageTs,
      responseUrl:
        input.responseUrl ??
        fake?.newResponseUrl({
          kind: "actions",
          channelId,
          userId: input.userId,
          ...(input.messageTs === undefined ? {} : { messageTs: input.messageTs }),
        }) ??
        this.#hooksUrl("actions"),
    };
  }
}
