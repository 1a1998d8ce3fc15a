import { AppError } from "@keyturn/usecases";

/**
 * A failed Slack Web API call, translated once. `retryable` errors (rate limits, Slack's own 5xx
 * and outages, network failures) go back to the job system for a later attempt; the rest need a
 * person (a missing channel, the bot not invited, a revoked token) and say what to fix.
 */
export class SlackCallError extends AppError {
  readonly method: string;
  /** Slack's error string (`ratelimited`, `channel_not_found`, ...) or an HTTP/network summary. */
  readonly slackError: string;
  /** From Slack's Retry-After header on a 429. */
  readonly retryAfterSeconds: number | undefined;

  constructor(input: {
    code: string;
    method: string;
    slackError: string;
    message: string;
    retryable: boolean;
    retryAfterSeconds?: number;
    cause: unknown;
  }) {
    super(input.code, input.message, { retryable: input.retryable, cause: input.cause });
    this.method = input.method;
    this.slackError = input.slackError;
    this.retryAfterSeconds = input.retryAfterSeconds;
  }
}

/** Slack answers these with ok:false, but they are Slack's trouble, not ours: try again later. */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "team_added_to_org",
]);

const AUTH_ERRORS = new Set([
  "not_authed",
  "invalid_auth",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
]);

function explain(method: string, error: string, channel: string | undefined): string {
  const where = channel === undefined ? "" : ` ${channel}`;
  if (error === "channel_not_found") {
    return `Slack ${method}: channel${where} not found; check the flow's approvalChannel (a channel id like C0123ABCD)`;
  }
  if (error === "not_in_channel") {
    return `Slack ${method}: Keyturn's bot is not a member of channel${where}; invite it there with /invite @Keyturn`;
  }
  if (error === "is_archived") {
    return `Slack ${method}: channel${where} is archived; point the flow's approvalChannel at a live channel`;
  }
  if (error === "invalid_blocks" || error === "invalid_arguments" || error === "msg_too_long") {
    return `Slack ${method} refused the message (${error}); this is a Keyturn bug, please report it`;
  }
  if (error === "missing_scope") {
    return `Slack ${method}: the Slack app lacks a scope it needs; reinstall it from apps/slack/manifest.yaml`;
  }
  if (AUTH_ERRORS.has(error)) {
    return `Slack ${method}: the bot token was refused (${error}); check SLACK_BOT_TOKEN`;
  }
  return `Slack ${method} failed: ${error}`;
}

type WebApiErrorShape = {
  code?: unknown;
  retryAfter?: unknown;
  statusCode?: unknown;
  data?: { error?: unknown };
  original?: unknown;
};

/**
 * Translates what @slack/web-api throws (configured with `rejectRateLimitedCalls` and no retries,
 * so every failure surfaces here at once) into a SlackCallError. Matches on the documented `code`
 * strings rather than classes, so a second copy of the library cannot break `instanceof`.
 */
export function translateSlackError(error: unknown, method: string, channel?: string): SlackCallError {
  if (error instanceof SlackCallError) {
    return error;
  }
  const shape = (typeof error === "object" && error !== null ? error : {}) as WebApiErrorShape;
  switch (shape.code) {
    case "slack_webapi_rate_limited_error": {
      const retryAfterSeconds = typeof shape.retryAfter === "number" ? shape.retryAfter : 1;
      return new SlackCallError({
        code: "SLACK_RATE_LIMITED",
        method,
        slackError: "ratelimited",
        message: `Slack rate-limited ${method}; retry after ${retryAfterSeconds}s`,
        retryable: true,
        retryAfterSeconds,
        cause: error,
      });
    }
    case "slack_webapi_http_error": {
      const status = typeof shape.statusCode === "number" ? shape.statusCode : 0;
      const retryable = status >= 500 || status === 429 || status === 408;
      return new SlackCallError({
        code: retryable ? "SLACK_UNAVAILABLE" : "SLACK_HTTP_ERROR",
        method,
        slackError: `http_${status}`,
        message: `Slack ${method} answered HTTP ${status}${retryable ? "; will retry" : ""}`,
        retryable,
        cause: error,
      });
    }
    case "slack_webapi_request_error":
      return new SlackCallError({
        code: "SLACK_UNREACHABLE",
        method,
        slackError: "request_error",
        message: `Slack ${method} could not be reached; will retry`,
        retryable: true,
        cause: error,
      });
    case "slack_webapi_platform_error": {
      const slackError = typeof shape.data?.error === "string" ? shape.data.error : "unknown_error";
      const retryable = TRANSIENT_PLATFORM_ERRORS.has(slackError);
      return new SlackCallError({
        code: retryable ? "SLACK_UNAVAILABLE" : "SLACK_REFUSED",
        method,
        slackError,
        message: retryable
          ? `Slack ${method} failed (${slackError}); will retry`
          : explain(method, slackError, channel),
        retryable,
        cause: error,
      });
    }
    default:
      return new SlackCallError({
        code: "SLACK_CALL_FAILED",
        method,
        slackError: "unexpected",
        message: `Slack ${method} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
        retryable: false,
        cause: error,
      });
  }
}

/** Runs one Web API call and translates its failure. */
export async function callSlack<T>(method: string, call: () => Promise<T>, channel?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateSlackError(error, method, channel);
  }
}
