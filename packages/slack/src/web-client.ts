import { LogLevel, WebClient } from "@slack/web-api";
import { observedSlackFetch, type SlackApiErrorObserver } from "./api-error-observer.js";

const SLACK_API_URL = "https://slack.com/api/";

/**
 * The Web API client the notifier expects: no retries inside the client and rate-limited calls
 * failing at once, so every retry goes through the job system (with its backoff, attempts and
 * visibility) instead of blocking a worker inside the client for Retry-After seconds.
 */
export function createSlackWebClient(options: {
  token: string;
  apiUrl?: string;
  /** Told about every failed call (metrics); see observedSlackFetch. */
  onApiError?: SlackApiErrorObserver;
}): WebClient {
  const apiUrl = options.apiUrl ?? SLACK_API_URL;
  return new WebClient(options.token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // A hung call must fail (and be retried by the job) rather than hold a worker slot.
    timeout: 10_000,
    // Failures reach the caller as SlackCallErrors; the client's own console output is noise.
    logLevel: LogLevel.ERROR,
    ...(options.onApiError === undefined
      ? {}
      : { fetch: observedSlackFetch({ apiUrl, onError: options.onApiError }) }),
  });
}
