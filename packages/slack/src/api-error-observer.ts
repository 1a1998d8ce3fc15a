import type { FetchFunction } from "@slack/web-api";

/** One failed Slack call, as the composition root's metrics see it. */
export type SlackApiErrorObservation = {
  /** The Web API method (`chat.postMessage`), or `response_url` for a reply to an interaction. */
  method: string;
  /**
   * Slack's error string (`channel_not_found`, `ratelimited`, ...), `http_<status>` for another
   * HTTP status, or `request_error` when Slack could not be reached (including timeouts); the
   * same words SlackCallError.slackError uses.
   */
  error: string;
};

/** Must not throw (what it throws is dropped, never allowed to fail the call). */
export type SlackApiErrorObserver = (observation: SlackApiErrorObservation) => void;

/**
 * A `fetch` for @slack/web-api's WebClient (`clientOptions.fetch`, which Bolt hands to every client
 * it creates and uses for `respond()` too) that reports every failed Slack call. It sits under the
 * client, so it is the one place every call passes through, whichever listener or notifier made it,
 * and it sees each HTTP attempt, retried ones included. The response is returned untouched: the
 * client still reads and throws the error itself.
 */
export function observedSlackFetch(options: {
  /** SLACK_API_URL: calls under it are named by their method, anything else `response_url`. */
  apiUrl: string;
  onError: SlackApiErrorObserver;
  /** Default: the global fetch. */
  fetch?: FetchFunction;
}): FetchFunction {
  const base: FetchFunction = options.fetch ?? ((url, init) => globalThis.fetch(url, init as RequestInit));
  const apiUrl = options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`;
  const methodOf = (url: string | URL): string => {
    const text = String(url);
    return text.startsWith(apiUrl) ? (text.slice(apiUrl.length).split(/[?#]/)[0] ?? "") : "response_url";
  };
  const report = (method: string, error: string) => {
    try {
      options.onError({ method, error });
    } catch {
      // Metrics must never fail a Slack call.
    }
  };

  return async (url, init) => {
    const method = methodOf(url);
    let response: Awaited<ReturnType<FetchFunction>>;
    try {
      response = await base(url, init);
    } catch (error) {
      report(method, "request_error");
      throw error;
    }
    if (response.status === 429) {
      report(method, "ratelimited");
    } else if (response.status !== 200) {
      report(method, `http_${response.status}`);
    } else if (isJson(response.headers.get("content-type")) && hasClone(response)) {
      // A clone, so the client can still read the body.
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as { ok?: unknown; error?: unknown } | undefined;
      if (body?.ok === false) {
        report(method, typeof body.error === "string" ? body.error : "unknown_error");
      }
    }
    return response;
  };
}

function isJson(contentType: string | null): boolean {
  return contentType !== null && /^application\/json\b/i.test(contentType);
}

function hasClone(
  response: Awaited<ReturnType<FetchFunction>>,
): response is Awaited<ReturnType<FetchFunction>> & { clone(): { json(): Promise<unknown> } } {
  return typeof (response as { clone?: unknown }).clone === "function";
}
