import { performance } from "node:perf_hooks";
import {
  type BlockActionInput,
  type InteractionBuilderOptions,
  SlackInteractionBuilder,
  type SlashCommandInput,
  type ViewClosedInput,
  type ViewSubmissionInput,
} from "./interaction-builder.js";
import { interactionForm } from "./interaction-payloads.js";
import { slackSignature } from "./signing.js";

export type {
  BlockActionInput,
  SlashCommandInput,
  ViewClosedInput,
  ViewInputPayload,
  ViewSubmissionInput,
} from "./interaction-builder.js";

// Sends an app's HTTP receiver exactly what Slack sends: the same bodies, content type, signature
// and retry headers, so Bolt's own verification and parsing run in tests.

export type SlackClientOptions = InteractionBuilderOptions & {
  /** Where the app listens, e.g. `http://127.0.0.1:3000`. */
  appUrl: string;
  signingSecret: string;
  /** Request path on `appUrl`; Bolt's HTTP and Express receivers default to `/slack/events`. */
  path?: string;
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
  readonly #build: SlackInteractionBuilder;
  readonly #now: () => number;
  #last: SlackSentRequest | undefined;

  constructor(options: SlackClientOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#build = new SlackInteractionBuilder(options);
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
    return this.#send({ body: this.#build.slashCommand(input).toString() }, options);
  }

  viewSubmission(
    input: ViewSubmissionInput,
    options?: SlackSendOptions & { raw?: false },
  ): Promise<SlackDelivery>;
  viewSubmission(input: ViewSubmissionInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  viewSubmission(input: ViewSubmissionInput, options: SlackSendOptions & { raw?: boolean } = {}) {
    return this.#send({ body: interactionForm(this.#build.viewSubmission(input)).toString() }, options);
  }

  viewClosed(input: ViewClosedInput, options?: SlackSendOptions & { raw?: false }): Promise<SlackDelivery>;
  viewClosed(input: ViewClosedInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  viewClosed(input: ViewClosedInput, options: SlackSendOptions & { raw?: boolean } = {}) {
    return this.#send({ body: interactionForm(this.#build.viewClosed(input)).toString() }, options);
  }

  blockAction(input: BlockActionInput, options?: SlackSendOptions & { raw?: false }): Promise<SlackDelivery>;
  blockAction(input: BlockActionInput, options: SlackSendOptions & SlackRawOption): Promise<Response>;
  blockAction(input: BlockActionInput, options: SlackSendOptions & { raw?: boolean } = {}) {
    return this.#send({ body: interactionForm(this.#build.blockAction(input)).toString() }, options);
  }

  /** Sends an earlier request again, byte for byte and with the same headers (signature included). */
  replay(previous: SlackDelivery | SlackSentRequest, options?: { raw?: false }): Promise<SlackDelivery>;
  replay(previous: SlackDelivery | SlackSentRequest, options: SlackRawOption): Promise<Response>;
  replay(previous: SlackDelivery | SlackSentRequest, options: { raw?: boolean } = {}) {
    const request = "request" in previous ? previous.request : previous;
    return this.#deliver(request, options.raw === true);
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
