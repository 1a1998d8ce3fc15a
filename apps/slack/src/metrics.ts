import type { SlackApiErrorObservation, SlackApiErrorObserver } from "@keyturn/slack";

const NAME = "keyturn_slack_api_errors_total";
const HELP = "Failed Slack Web API calls by method and Slack's error string.";

/** Prometheus' text format escapes backslashes, quotes and newlines in label values. */
const escapeLabel = (value: string) =>
  value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

/**
 * The Slack app's Prometheus series, served at /metrics in HTTP mode: the same
 * keyturn_slack_api_errors_total (name, labels) as the worker's, so one query covers both. One
 * counter, written out in the text format by hand: prom-client is not a dependency of this app, and
 * the format of a labelled counter is small and fixed.
 */
export function createSlackAppMetrics() {
  const errors = new Map<string, { labels: SlackApiErrorObservation; count: number }>();
  const observeSlackApiError: SlackApiErrorObserver = (labels) => {
    const key = JSON.stringify([labels.method, labels.error]);
    const entry = errors.get(key);
    if (entry === undefined) {
      errors.set(key, { labels: { method: labels.method, error: labels.error }, count: 1 });
    } else {
      entry.count++;
    }
  };
  return {
    contentType: "text/plain; version=0.0.4; charset=utf-8",
    /** For the Web API client's fetch (observedSlackFetch). */
    observeSlackApiError,
    render(): string {
      const lines = [`# HELP ${NAME} ${HELP}`, `# TYPE ${NAME} counter`];
      for (const { labels, count } of errors.values()) {
        lines.push(
          `${NAME}{method="${escapeLabel(labels.method)}",error="${escapeLabel(labels.error)}"} ${count}`,
        );
      }
      return `${lines.join("\n")}\n`;
    },
  };
}

export type SlackAppMetrics = ReturnType<typeof createSlackAppMetrics>;
