import { missingArgument, SlackApiError } from "./errors.js";
import type { JsonObject, SlackMessage } from "./types.js";
import { MESSAGE_TEXT_LIMIT, messageBlocks, viewInput } from "./validate.js";
import { boolArg, stringArg } from "./wire.js";
import type { MessageContent, Workspace } from "./workspace.js";

// One handler per Web API method: arguments in, the success body (without `ok`) out, or a thrown
// SlackApiError carrying Slack's error string. Shapes follow the examples in Slack's method docs.

type Handler = (args: JsonObject, workspace: Workspace) => JsonObject;

function required(args: JsonObject, name: string): string {
  const value = stringArg(args, name);
  if (value === undefined) {
    throw missingArgument(name);
  }
  return value;
}

function attachmentsArg(args: JsonObject): unknown[] | undefined {
  const value = args.attachments;
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw new SlackApiError("invalid_attachments");
  }
  return value;
}

/** The content arguments shared by chat.postMessage, postEphemeral and update. */
function messageContent(args: JsonObject): MessageContent & { hasContent: boolean } {
  const text = stringArg(args, "text") ?? "";
  const blocks = messageBlocks(args.blocks);
  const attachments = attachmentsArg(args);
  if (text.length > MESSAGE_TEXT_LIMIT) {
    throw new SlackApiError("msg_too_long");
  }
  return {
    text,
    blocks,
    attachments,
    thread_ts: stringArg(args, "thread_ts"),
    metadata: args.metadata,
    hasContent: text !== "" || (blocks?.length ?? 0) > 0 || (attachments?.length ?? 0) > 0,
  };
}

/** A stored message as Slack echoes it in chat.* answers (no `channel`, plus the bot profile). */
function echo(message: SlackMessage, workspace: Workspace): JsonObject {
  const { channel: _channel, ...rest } = message;
  const { config } = workspace;
  return {
    ...rest,
    bot_profile: {
      id: config.botId,
      app_id: config.appId,
      name: config.botName,
      icons: {},
      deleted: false,
      updated: Math.floor(workspace.now() / 1000),
      team_id: config.teamId,
    },
  };
}

function channelRef(args: JsonObject): string {
  const channel = stringArg(args, "channel");
  if (channel === undefined) {
    throw new SlackApiError("channel_not_found");
  }
  return channel;
}

export const methods: Readonly<Record<string, Handler>> = {
  "auth.test": (_args, { config }) => ({
    url: `https://${config.teamDomain}.slack.com/`,
    team: config.teamName,
    user: config.botName,
    team_id: config.teamId,
    user_id: config.botUserId,
    bot_id: config.botId,
    is_enterprise_install: false,
  }),

  "users.info": (args, workspace) => ({ user: workspace.requireUser(required(args, "user")) }),

  "users.lookupByEmail": (args, workspace) => {
    const user = workspace.userByEmail(required(args, "email"));
    if (user === undefined) {
      throw new SlackApiError("users_not_found");
    }
    return { user };
  },

  "usergroups.users.list": (args, workspace) => ({
    users: workspace.groupMembers(required(args, "usergroup")),
  }),

  "conversations.open": (args, workspace) => {
    const resume = stringArg(args, "channel");
    if (resume !== undefined) {
      const channel = workspace.channel(resume);
      if (channel === undefined || !channel.is_im) {
        throw new SlackApiError("channel_not_found");
      }
      return { no_op: true, already_open: true, channel: { id: channel.id } };
    }
    const users = (stringArg(args, "users") ?? "")
      .split(",")
      .map((id) => id.trim())
      .filter((id) => id !== "");
    if (users.length === 0) {
      throw new SlackApiError("users_list_not_supplied");
    }
    if (users.length > 1) {
      // Group DMs are not something Keyturn opens; saying so beats pretending.
      throw new SlackApiError("method_not_supported_for_channel_type");
    }
    const userId = users[0] ?? "";
    const user = workspace.requireUser(userId);
    if (user.deleted) {
      throw new SlackApiError("user_disabled");
    }
    const dm = workspace.openDm(userId);
    const channel = boolArg(args, "return_im")
      ? {
          id: dm.id,
          created: dm.created,
          is_im: true,
          is_org_shared: false,
          user: userId,
          last_read: "0000000000.000000",
          latest: null,
          unread_count: 0,
          unread_count_display: 0,
          is_open: true,
          priority: 0,
        }
      : { id: dm.id };
    return dm.alreadyOpen ? { no_op: true, already_open: true, channel } : { channel };
  },

  "chat.postMessage": (args, workspace) => {
    const channel = workspace.resolveChannel(channelRef(args), { allowUserOrName: true });
    const content = messageContent(args);
    if (!content.hasContent) {
      throw new SlackApiError("no_text");
    }
    const message = workspace.postMessage(channel.id, content);
    return { channel: channel.id, ts: message.ts, message: echo(message, workspace) };
  },

  "chat.postEphemeral": (args, workspace) => {
    const channel = workspace.resolveChannel(channelRef(args), { allowUserOrName: true });
    const userId = required(args, "user");
    const content = messageContent(args);
    if (!content.hasContent) {
      throw new SlackApiError("no_text");
    }
    const ephemeral = workspace.postEphemeral(channel.id, userId, content, "chat.postEphemeral");
    return { message_ts: ephemeral.message_ts };
  },

  "chat.update": (args, workspace) => {
    const channel = workspace.resolveChannel(channelRef(args), { allowUserOrName: false });
    const ts = stringArg(args, "ts");
    if (ts === undefined) {
      throw new SlackApiError("message_not_found");
    }
    const content = messageContent(args);
    if (!content.hasContent) {
      throw new SlackApiError("no_text");
    }
    const message = workspace.updateMessage(channel.id, ts, content);
    return { channel: channel.id, ts, text: message.text, message: echo(message, workspace) };
  },

  "chat.delete": (args, workspace) => {
    const channel = workspace.resolveChannel(channelRef(args), { allowUserOrName: false });
    const ts = stringArg(args, "ts");
    if (ts === undefined) {
      throw new SlackApiError("message_not_found");
    }
    workspace.deleteMessage(channel.id, ts);
    return { channel: channel.id, ts };
  },

  "views.open": (args, workspace) => {
    const triggerId = required(args, "trigger_id");
    const input = viewInput(args.view, "modal");
    const { userId } = workspace.consumeTrigger(triggerId);
    return { view: workspace.openView(userId, input, false) };
  },

  "views.push": (args, workspace) => {
    const triggerId = required(args, "trigger_id");
    const input = viewInput(args.view, "modal");
    const { userId } = workspace.consumeTrigger(triggerId);
    return { view: workspace.openView(userId, input, true) };
  },

  "views.update": (args, workspace) => {
    const viewId = stringArg(args, "view_id");
    const externalId = stringArg(args, "external_id");
    if (viewId === undefined && externalId === undefined) {
      throw new SlackApiError("invalid_arguments", ["[ERROR] either view_id or external_id is required"]);
    }
    const target = { viewId, externalId };
    const current = workspace.resolveView(target);
    const input = viewInput(args.view, current.type === "home" ? "home" : "modal");
    return { view: workspace.updateView(target, input, stringArg(args, "hash")) };
  },

  "views.publish": (args, workspace) => {
    const userId = required(args, "user_id");
    if (workspace.user(userId) === undefined) {
      throw new SlackApiError("invalid_arguments", ["invalid `user_id`"]);
    }
    const input = viewInput(args.view, "home");
    return { view: workspace.publishHome(userId, input, stringArg(args, "hash")) };
  },
};
