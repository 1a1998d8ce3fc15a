import type { JsonObject, SlackBlock, SlackMessage, SlackStateValues, SlackView } from "./types.js";
import { isObject } from "./wire.js";

// What Slack posts to an app's request URL, field for field from Slack's payload reference
// (slash commands: form fields; interactions: a form field `payload` holding JSON). Pure
// builders: the signed client resolves users, messages and views first.

export type PayloadTeam = { teamId: string; teamDomain: string; appId: string; verificationToken: string };

export type PayloadUser = { id: string; username: string; name: string; team_id: string };

/** Slack's field order, which Bolt does not need but a byte-level replay test sees. */
export function slashCommandForm(
  team: PayloadTeam,
  fields: {
    channelId: string;
    channelName: string;
    user: PayloadUser;
    command: string;
    text: string;
    responseUrl: string;
    triggerId: string;
  },
): URLSearchParams {
  return new URLSearchParams([
    ["token", team.verificationToken],
    ["team_id", team.teamId],
    ["team_domain", team.teamDomain],
    ["channel_id", fields.channelId],
    ["channel_name", fields.channelName],
    ["user_id", fields.user.id],
    ["user_name", fields.user.username],
    ["command", fields.command],
    ["text", fields.text],
    ["api_app_id", team.appId],
    ["is_enterprise_install", "false"],
    ["response_url", fields.responseUrl],
    ["trigger_id", fields.triggerId],
  ]);
}

export function interactionForm(payload: JsonObject): URLSearchParams {
  return new URLSearchParams([["payload", JSON.stringify(payload)]]);
}

function envelope(team: PayloadTeam, type: string, user: PayloadUser): JsonObject {
  return {
    type,
    team: { id: team.teamId, domain: team.teamDomain },
    user,
    api_app_id: team.appId,
    token: team.verificationToken,
  };
}

export type ActionSource =
  | {
      kind: "message";
      channel: { id: string; name: string };
      /** Absent for an ephemeral message: Slack does not send those back. */
      message: Omit<SlackMessage, "channel"> | undefined;
      messageTs: string;
      responseUrl: string;
    }
  | { kind: "view"; view: SlackView };

export function blockActionsPayload(
  team: PayloadTeam,
  fields: { user: PayloadUser; triggerId: string; source: ActionSource; action: JsonObject },
): JsonObject {
  const { source } = fields;
  const common = {
    ...envelope(team, "block_actions", fields.user),
    trigger_id: fields.triggerId,
    enterprise: null,
    is_enterprise_install: false,
  };
  if (source.kind === "view") {
    return {
      ...common,
      container: { type: "view", view_id: source.view.id },
      view: source.view,
      actions: [fields.action],
    };
  }
  return {
    ...common,
    container: {
      type: "message",
      message_ts: source.messageTs,
      channel_id: source.channel.id,
      is_ephemeral: source.message === undefined,
    },
    channel: source.channel,
    ...(source.message === undefined ? {} : { message: source.message }),
    state: { values: {} },
    response_url: source.responseUrl,
    actions: [fields.action],
  };
}

export function viewSubmissionPayload(
  team: PayloadTeam,
  fields: { user: PayloadUser; triggerId: string; view: SlackView },
): JsonObject {
  return {
    ...envelope(team, "view_submission", fields.user),
    trigger_id: fields.triggerId,
    view: fields.view,
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

export function viewClosedPayload(
  team: PayloadTeam,
  fields: { user: PayloadUser; view: SlackView; isCleared: boolean },
): JsonObject {
  return {
    ...envelope(team, "view_closed", fields.user),
    view: fields.view,
    is_cleared: fields.isCleared,
    enterprise: null,
    is_enterprise_install: false,
  };
}

type FoundElement = { blockId: string; element: JsonObject };

/** The interactive elements of a block: `actions` elements, a section accessory, an input. */
function elementsOf(block: SlackBlock): JsonObject[] {
  const candidates: unknown[] = [];
  if (Array.isArray(block.elements)) {
    candidates.push(...block.elements);
  }
  candidates.push(block.accessory, block.element);
  return candidates.filter(isObject);
}

/**
 * Finds the element a click refers to, as Slack would: the block that holds `actionId`, narrowed
 * by block id and value when the same action id appears more than once (a Revoke button per row).
 */
export function findElement(
  blocks: readonly SlackBlock[],
  actionId: string,
  narrow: { blockId?: string | undefined; value?: string | undefined },
): FoundElement | undefined {
  const found: FoundElement[] = [];
  blocks.forEach((block, i) => {
    for (const element of elementsOf(block)) {
      if (element.action_id === actionId) {
        found.push({ blockId: block.block_id ?? `b${i}`, element });
      }
    }
  });
  const inBlock = found.filter(
    (candidate) => narrow.blockId === undefined || candidate.blockId === narrow.blockId,
  );
  // A value that matches no element is the test overriding it (a stale or forged click).
  return inBlock.find((candidate) => candidate.element.value === narrow.value) ?? inBlock[0];
}

/** A complete view payload: the stored view (if any) under what the test supplies. */
export function completeView(
  base: SlackView | undefined,
  input: JsonObject & { state?: { values: SlackStateValues } },
  defaults: { id: string; teamId: string; appId: string; botId: string; hash: string },
): SlackView {
  const id = typeof input.id === "string" ? input.id : (base?.id ?? defaults.id);
  const fallback: SlackView = {
    id,
    team_id: defaults.teamId,
    type: "modal",
    blocks: [],
    private_metadata: "",
    callback_id: "",
    external_id: "",
    state: { values: {} },
    hash: defaults.hash,
    clear_on_close: false,
    notify_on_close: false,
    root_view_id: id,
    previous_view_id: null,
    app_id: defaults.appId,
    app_installed_team_id: defaults.teamId,
    bot_id: defaults.botId,
  };
  return { ...fallback, ...base, ...input, id } as SlackView;
}
