import { describe, expect, it } from "vitest";
import { PEOPLE, useSlackWorld } from "./test-support.js";

// The Slack app's /metrics (HTTP mode) counts the Slack calls its listeners make through Bolt's
// client that Slack refused, by method and Slack's error.

const world = useSlackWorld();
const SERIES = 'keyturn_slack_api_errors_total{method="views.publish",error="ratelimited"}';

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${world.appUrl}/metrics`);
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

/**
 * The counter once it reached `atLeast`: the app counts a failure when it has read Slack's answer,
 * and the fake logs a call just before it answers.
 */
async function counted(series: string, atLeast: number, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = (await scrape()).text.split("\n").find((l) => l.startsWith(`${series} `));
    const value = line === undefined ? 0 : Number(line.slice(series.length + 1));
    if (value >= atLeast) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${series} stayed at ${value} (wanted ${atLeast}) for ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the Slack app's /metrics", () => {
  it("serves the Slack API error counter in Prometheus' text format, empty at first", async () => {
    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain("# TYPE keyturn_slack_api_errors_total counter");
    expect(text).not.toContain("keyturn_slack_api_errors_total{");
  });

  it("counts a Slack call a listener made that Slack refused, once per failure", async () => {
    world.fake.failNext("views.publish", { error: "ratelimited", count: 2 });
    for (const expected of [1, 2]) {
      const response = await world.sendEvent({
        type: "app_home_opened",
        user: PEOPLE.carol.id,
        channel: world.fake.dmChannelId(PEOPLE.carol.id),
        tab: "home",
      });
      expect(response.status).toBe(200);
      const refused = await world.fake.waitForCall(
        "views.publish",
        (call) => call.response.ok === false && call.args.user_id === PEOPLE.carol.id,
      );
      expect(refused.response.error).toBe("ratelimited");
      world.fake.clearCalls();
      expect(await counted(SERIES, expected)).toBe(expected);
    }
  });
});
