import { describe, expect, it } from "vitest";
import { createSlackAppMetrics } from "./metrics.js";

describe("the Slack app's metrics text", () => {
  it("writes one sample per method and error, with label values escaped as Prometheus reads them", () => {
    const metrics = createSlackAppMetrics();
    metrics.observeSlackApiError({ method: "chat.postMessage", error: "not_in_channel" });
    metrics.observeSlackApiError({ method: "chat.postMessage", error: "not_in_channel" });
    metrics.observeSlackApiError({ method: 'odd"\\', error: "line\nbreak" });
    expect(metrics.render().split("\n")).toEqual([
      "# HELP keyturn_slack_api_errors_total Failed Slack Web API calls by method and Slack's error string.",
      "# TYPE keyturn_slack_api_errors_total counter",
      'keyturn_slack_api_errors_total{method="chat.postMessage",error="not_in_channel"} 2',
      'keyturn_slack_api_errors_total{method="odd\\"\\\\",error="line\\nbreak"} 1',
      "",
    ]);
  });
});
