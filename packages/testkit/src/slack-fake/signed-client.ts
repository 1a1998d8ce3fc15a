import { performance } from "node:perf_hooks";
import { randomHex, TsClock } from "./ids.js";
import {
  type ActionSource,
  blockActionsPayload,
  completeView,
  findElement,
  interactionForm,
  type PayloadTeam,
  type PayloadUser,
  slashCommandForm,
  viewClosedPayload,
  viewSubmissionPayload,
} from "./interaction-payloads.js";
import { slackSignature } from "./signing.js";
import type { JsonObject, SlackFake, SlackStateValues, SlackView } from "./types.js";

// Sends an app's HTTP receiver exactly what Slack sends: the same bodies, content type, signature
// and retry headers, so Bolt's own verification and parsing run in tests.

export type SlackClientOptions = {
  /** Where the app listens, e.g. `http://127.0.0.1:3000`. */
  appUrl: string;
  signingSecret: string;
  /** Request path on `appUrl`; Bolt's HTTP and Express receivers default to `/slack/events`. */
  path?: string;
  /** With a fake: trigger ids it accepts, response URLs it records, users/messages/views it knows. */
  fake?: SlackFake;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  /** The legacy verification token Slack still puts in every payload. */
  verificationToken?: string;
  /** Milliseconds since the epoch for `X-Slack-Request-Timestamp`; Bolt compares it with its own clock. */
  now?: () => number;
};

export type SlackSendOptions = {
  /** Unix seconds for `X-Slack-Request-Timestamp` (and the signature); e.g. 6 minutes ago. */
  timestamp?: number;
  /** Sent instead of the computed `X-Slack-Signature`; `null` leaves the header out. */
  signature?: string | null;
  /** `X-Slack-Retry-Num`, as on Slack's redeliveries. */
  retryNum?: number;
  /** `X-Slack-Retry-Reason`, e.g. `http_timeout`. */
  retryReason?: string;
  /** Overrides the client's path for this request. */
  path?: string;
  headers?: Record<string, string>;
};

export type SlackRawOption = { raw: true };

export type SlackSentRequest = {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
};

export type SlackDelivery = {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed, when it is JSON (e.g. a view_submission `response_action`). */
  json?: unknown;
  /** From sending the request to having read the whole answer. */
  latencyMs: number;
  /** What was sent, for `replay`. */
  request: SlackSentRequest;
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

type Built = { body: string };

function responseHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

function parseJson(text: string): unknown {
  if (text === "") {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export class SignedSlackClient {
  readonly #options: SlackClientOptions;
  readonly #team: PayloadTeam;
  readonly #now: () => number;
  readonly #actionClock: TsClock;
  #last: SlackSentRequest | undefined;

  constructor(options: SlackClientOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#actionClock = new TsClock(this.#now);
    this.#team = {
      teamId: options.teamId ?? options.fake?.teamId ?? "T0KEYTURN",
      teamDomain: options.teamDomain ?? options.fake?.teamDomain ?? "keyturn",
      appId: options.appId ?? options.fake?.appId ?? "A0KEYTURN",
      verificationToken: options.verificationToken ?? "keyturn-verification-token",
    };
  }

  /** The last request sent (also after a `raw` send), for `replay`. */
  lastRequest(): SlackSentRequest | undefined {
    return this.#last;
  }

  slashCommand(
    input: SlashCommandInput,
    options?: SlackSendOptions & { raw?: false },
  ): Promise<SlackDelivery>;
  slashCommand(input: SlashCommandInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  slashCommand(input: SlashCommandInput, options: SlackSendOptions & { raw?: boolean } = {}) {
    const fake = this.#options.fake;
    const user = this.#user(input.userId, input.userName);
    const channelId = input.channelId ?? fake?.dmChannelId(input.userId) ?? "C0GENERAL";
    const channelName =
      input.channelName ??
      fake?.channel(channelId)?.name ??
      (channelId.startsWith("D") ? "directmessage" : "general");
    const form = slashCommandForm(this.#team, {
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
    return this.#send({ body: form.toString() }, options);
  }

  viewSubmission(
    input: ViewSubmissionInput,
    options?: SlackSendOptions & { raw?: false },
  ): Promise<SlackDelivery>;
  viewSubmission(input: ViewSubmissionInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  viewSubmission(input: ViewSubmissionInput, options: SlackSendOptions & { raw?: boolean } = {}) {
    const payload = viewSubmissionPayload(this.#team, {
      user: this.#user(input.userId, input.userName),
      triggerId: input.triggerId ?? this.#triggerId(input.userId),
      view: this.#view(input.userId, input.view),
    });
    return this.#send({ body: interactionForm(payload).toString() }, options);
  }

  viewClosed(input: ViewClosedInput, options?: SlackSendOptions & { raw?: false }): Promise<SlackDelivery>;
  viewClosed(input: ViewClosedInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  viewClosed(input: ViewClosedInput, options: SlackSendOptions & { raw?: boolean } = {}) {
    const payload = viewClosedPayload(this.#team, {
      user: this.#user(input.userId, input.userName),
      view: this.#view(input.userId, input.view),
      isCleared: input.isCleared ?? false,
    });
    return this.#send({ body: interactionForm(payload).toString() }, options);
  }

  blockAction(input: BlockActionInput, options?: SlackSendOptions & { raw?: false }): Promise<SlackDelivery>;
  blockAction(input: BlockActionInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  blockAction(input: BlockActionInput, options: SlackSendOptions & { raw?: boolean } = {}) {
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
    const payload = blockActionsPayload(this.#team, {
      user: this.#user(input.userId, input.userName),
      triggerId: input.triggerId ?? this.#triggerId(input.userId),
      source,
      action: { ...action, ...input.action },
    });
    return this.#send({ body: interactionForm(payload).toString() }, options);
  }

  /** Sends an earlier request again, byte for byte and with the same headers (signature included). */
  replay(previous: SlackDelivery | SlackSentRequest, options?: { raw?: false }): Promise<SlackDelivery>;
  replay(previous: SlackDelivery | SlackSentRequest, options: SlackRawOption): Promise<Response>;
  replay(previous: SlackDelivery | SlackSentRequest, options: { raw?: boolean } = {}) {
    const request = "request" in previous ? previous.request : previous;
    return this.#deliver(request, options.raw === true);
  }

  #user(userId: string, userName: string | undefined): PayloadUser {
    const name = userName ?? this.#options.fake?.user(userId)?.name ?? userId.toLowerCase();
    return { id: userId, username: name, name, team_id: this.#team.teamId };
  }

  #triggerId(userId: string): string {
    return this.#options.fake?.newTriggerId(userId) ?? `${Date.now()}.${randomHex(5)}.${randomHex(16)}`;
  }

  #hooksUrl(kind: "commands" | "actions"): string {
    return `https://hooks.slack.com/${kind}/${this.#team.teamId}/${Date.now()}/${randomHex(12)}`;
  }

  #view(userId: string, input: ViewInputPayload): SlackView {
    const fake = this.#options.fake;
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
    const fake = this.#options.fake;
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

  #send(built: Built, options: SlackSendOptions & { raw?: boolean }): Promise<SlackDelivery | Response> {
    const timestamp = options.timestamp ?? Math.floor(this.#now() / 1000);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      accept: "application/json,*/*",
      "x-slack-request-timestamp": String(timestamp),
    };
    const signature =
      options.signature === undefined
        ? slackSignature(this.#options.signingSecret, timestamp, built.body)
        : options.signature;
    if (signature !== null) {
      headers["x-slack-signature"] = signature;
    }
    if (options.retryNum !== undefined) {
      headers["x-slack-retry-num"] = String(options.retryNum);
    }
    if (options.retryReason !== undefined) {
      headers["x-slack-retry-reason"] = options.retryReason;
    }
    Object.assign(headers, options.headers);
    const url = new URL(
      options.path ?? this.#options.path ?? "/slack/events",
      this.#options.appUrl,
    ).toString();
    return this.#deliver({ url, method: "POST", headers, body: built.body }, options.raw === true);
  }

  async #deliver(request: SlackSentRequest, raw: boolean): Promise<SlackDelivery | Response> {
    this.#last = request;
    const started = performance.now();
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    if (raw) {
      return response;
    }
    const body = await response.text();
    const latencyMs = performance.now() - started;
    const json = parseJson(body);
    return {
      status: response.status,
      headers: responseHeaders(response),
      body,
      ...(json === undefined ? {} : { json }),
      latencyMs,
      request,
    };
  }
}

export function createSlackClient(options: SlackClientOptions): SignedSlackClient {
  return new SignedSlackClient(options);
}
