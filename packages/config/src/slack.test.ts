import { describe, expect, it } from "vitest";
import { loadSlackConfig } from "./slack.js";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/keyturn",
  SLACK_BOT_TOKEN: "xoxb-1-2-3",
  SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
  AWS_ACCESS_PORTAL_URL: "https://d-1234567890.awsapps.com/start",
  AWS_SSO_REGION: "eu-west-1",
  REDIS_URL: "redis://127.0.0.1:6379",
};

describe("loadSlackConfig", () => {
  it("defaults to HTTP mode against Slack itself", () => {
    const result = loadSlackConfig(base);
    expect(result.ok && result.config).toEqual({
      databaseUrl: base.DATABASE_URL,
      slack: {
        botToken: "xoxb-1-2-3",
        apiUrl: "https://slack.com/api/",
        transport: {
          mode: "http",
          signingSecret: base.SLACK_SIGNING_SECRET,
          port: 3001,
          redis: { url: "redis://127.0.0.1:6379", prefix: "keyturn" },
        },
      },
      aws: { portalUrl: base.AWS_ACCESS_PORTAL_URL, ssoRegion: "eu-west-1" },
      integrations: { timeoutMs: 5000 },
      log: { level: "info", pretty: false },
    });
  });

  it("sets up Jira only with its three settings together, naming what is missing", () => {
    const partial = loadSlackConfig({ ...base, JIRA_BASE_URL: "https://acme.atlassian.net" });
    expect(partial.ok ? [] : partial.problems.join("\n")).toMatch(/JIRA_EMAIL[\s\S]*JIRA_API_TOKEN/);
    const whole = loadSlackConfig({
      ...base,
      JIRA_BASE_URL: "https://acme.atlassian.net",
      JIRA_EMAIL: "keyturn@acme.example",
      JIRA_API_TOKEN: "t0ken",
      PAGERDUTY_TOKEN: "pd-read-only",
    });
    expect(whole.ok && whole.config.integrations).toEqual({
      timeoutMs: 5000,
      pagerduty: { token: "pd-read-only", apiUrl: "https://api.pagerduty.com" },
      jira: { siteUrl: "https://acme.atlassian.net", email: "keyturn@acme.example", apiToken: "t0ken" },
    });
  });

  it("refuses HTTP mode without a signing secret, saying why", () => {
    const result = loadSlackConfig({ ...base, SLACK_SIGNING_SECRET: "" });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      "SLACK_SIGNING_SECRET: is required in http mode: without it Keyturn cannot tell Slack's requests from forgeries",
    ]);
  });

  it("refuses HTTP mode without Redis, where replicas share the signatures they accepted", () => {
    const { REDIS_URL: _unused, ...rest } = base;
    const result = loadSlackConfig(rest);
    expect(result.ok ? [] : result.problems).toEqual([
      "REDIS_URL: is required in http mode: the replicas share their memory of accepted Slack requests there, so none accepts a replay",
    ]);
  });

  it("Socket Mode needs an app token instead", () => {
    const { SLACK_SIGNING_SECRET: _unused, ...rest } = base;
    const missing = loadSlackConfig({ ...rest, SLACK_MODE: "socket" });
    expect(missing.ok ? [] : missing.problems).toEqual([
      "SLACK_APP_TOKEN: is required in socket mode (an xapp- token with connections:write)",
    ]);
    const ok = loadSlackConfig({ ...rest, SLACK_MODE: "socket", SLACK_APP_TOKEN: "xapp-1-A1-2" });
    expect(ok.ok && ok.config.slack.transport).toEqual({ mode: "socket", appToken: "xapp-1-A1-2" });
  });

  it("takes any Slack-compatible API URL and names every bad variable", () => {
    const custom = loadSlackConfig({ ...base, SLACK_API_URL: "http://127.0.0.1:9999/api" });
    expect(custom.ok && custom.config.slack.apiUrl).toBe("http://127.0.0.1:9999/api/");
    const bad = loadSlackConfig({
      SLACK_BOT_TOKEN: "xoxp-user-token",
      SLACK_MODE: "carrier-pigeon",
      AWS_SSO_REGION: "Europe",
      SLACK_PORT: "http",
    });
    const problems = bad.ok ? "" : bad.problems.join("\n");
    for (const name of [
      "DATABASE_URL",
      "SLACK_BOT_TOKEN",
      "SLACK_MODE",
      "AWS_SSO_REGION",
      "AWS_ACCESS_PORTAL_URL",
      "SLACK_PORT",
    ]) {
      expect(problems).toContain(name);
    }
  });
});
