import { LogLevel, WebClient } from "@slack/web-api";

/**
 * The Web API client the notifier expects: no retries inside the client and rate-limited calls
 * failing at once, so every retry goes through the job system (with its backoff, attempts and
 * visibility) instead of blocking a worker inside the client for Retry-After seconds.
 */
export function createSlackWebClient(options: { token: string; apiUrl?: string }): WebClient {
  return new WebClient(options.token, {
    ...(options.apiUrl === undefined ? {} : { slackApiUrl: options.apiUrl }),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // A hung call must fail (and be retried by the job) rather than hold a worker slot.
    timeout: 10_000,
    // Failures reach the caller as SlackCallErrors; the client's own console output is noise.
    logLevel: LogLevel.ERROR,
  });
}
