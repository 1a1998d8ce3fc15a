import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { ApiEnvSchema, loadApiConfig } from "./api.js";
import { LocalEnvSchema, loadLocalConfig } from "./local.js";
import { loadSlackConfig, SlackEnvSchema } from "./slack.js";
import { loadWorkerConfig, WorkerEnvSchema } from "./worker.js";

const example = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");

type Marker = "required" | "conditional" | "optional";
type Entry = { key: string; value: string; group: string; marker: Marker | undefined };

/** Each `KEY=value` line with its group (`# === name ...`) and the marker line above it. */
function entries(text: string): Entry[] {
  const found: Entry[] = [];
  let group = "";
  let marker: Marker | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^# === (\w+)/.exec(line);
    if (header !== null) {
      group = header[1] ?? "";
      marker = undefined;
    } else if (line === "# Required:") {
      marker = "required";
    } else if (/^# Required (when|by) .*:/.test(line)) {
      marker = "conditional";
    } else if (line === "# Optional:") {
      marker = "optional";
    } else if (/^[A-Z0-9_]+=/.test(line)) {
      const [key = "", value = ""] = line.split(/=(.*)/s);
      found.push({ key, value, group, marker });
    }
  }
  return found;
}

const documented = entries(example);
// The API reads its bucket routes' S3 settings (and Keyturn's own role) outside its config schema
// for now (apps/api/src/bucket-policy-env.ts).
const API_S3_KEYS = ["AWS_REGION", "AWS_S3_FORCE_PATH_STYLE", "KEYTURN_ROLE_ARN"];
const groups: Record<string, { shape: Record<string, z.ZodType>; extra?: string[] }> = {
  api: { shape: ApiEnvSchema.shape, extra: API_S3_KEYS },
  worker: { shape: WorkerEnvSchema.shape },
  slack: { shape: SlackEnvSchema.shape },
  local: { shape: LocalEnvSchema.shape },
};
const envOf = (group?: string) =>
  Object.fromEntries(
    documented.filter((e) => group === undefined || e.group === group).map((e) => [e.key, e.value]),
  );

describe(".env.example", () => {
  it("has one group per app, each listing exactly the variables that app reads", () => {
    expect([...new Set(documented.map((e) => e.group))]).toEqual(Object.keys(groups));
    for (const [group, { shape, extra = [] }] of Object.entries(groups)) {
      const listed = documented.filter((e) => e.group === group).map((e) => e.key);
      expect(listed.length, `${group} lists a variable twice`).toBe(new Set(listed).size);
      expect([...listed].sort(), group).toEqual([...Object.keys(shape), ...extra].sort());
    }
  });

  it("says which variables are required: exactly those without a default", () => {
    for (const [group, { shape }] of Object.entries(groups)) {
      for (const entry of documented.filter((e) => e.group === group)) {
        expect(entry.marker, `${group} ${entry.key} has no Required/Optional marker`).toBeDefined();
        const field = shape[entry.key];
        if (field === undefined) {
          continue;
        }
        const required = !field.safeParse(undefined).success;
        expect(entry.marker === "required", `${group} ${entry.key}`).toBe(required);
      }
    }
  });

  it("gives one value per variable, whichever groups list it", () => {
    for (const key of new Set(documented.map((e) => e.key))) {
      const values = new Set(documented.filter((e) => e.key === key).map((e) => e.value));
      expect(values.size, key).toBe(1);
    }
  });

  it("is a valid configuration of each app, once its required secrets are filled in", () => {
    expect(loadApiConfig(envOf("api")).ok).toBe(true);
    expect(loadWorkerConfig(envOf("worker")).ok).toBe(true);
    expect(loadLocalConfig(envOf("local")).ok).toBe(true);
    // The Slack app names what is left to fill in: its required (and required-by-mode) variables.
    const slack = loadSlackConfig(envOf("slack"));
    const missing = slack.ok ? [] : slack.problems.map((problem) => problem.split(":")[0]);
    const required = documented
      .filter((e) => e.group === "slack" && e.marker !== "optional" && e.value === "")
      .map((e) => e.key);
    expect(missing.length).toBeGreaterThan(0);
    for (const key of missing) {
      expect(required).toContain(key);
    }
    const filled = loadSlackConfig({
      ...envOf("slack"),
      SLACK_BOT_TOKEN: "xoxb-1-2-3",
      SLACK_SIGNING_SECRET: "0123456789abcdef0123",
      AWS_ACCESS_PORTAL_URL: "https://d-0123456789.awsapps.com/start",
      AWS_SSO_REGION: "eu-west-1",
    });
    expect(filled.ok).toBe(true);
  });
});

describe("loadApiConfig", () => {
  it("names every bad or missing variable", () => {
    const result = loadApiConfig({ API_PORT: "http", LOG_LEVEL: "loud" });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems.join("\n");
    expect(problems).toContain("DATABASE_URL");
    expect(problems).toContain("API_PORT");
    expect(problems).toContain("LOG_LEVEL");
  });

  it("reads flags as booleans, 'false' included", () => {
    const result = loadApiConfig({ DATABASE_URL: "postgresql://x/y", LOG_PRETTY: "false" }, true);
    expect(result.ok && result.config.log.pretty).toBe(false);
  });

  it("returns a frozen config", () => {
    const result = loadApiConfig({ DATABASE_URL: "postgresql://x/y" });
    expect(result.ok && Object.isFrozen(result.config)).toBe(true);
  });

  it("reads the queue dashboard's Redis only when REDIS_URL is set, with the worker's prefix rules", () => {
    const without = loadApiConfig({ DATABASE_URL: "postgresql://x/y", REDIS_PREFIX: "kt" });
    expect(without.ok && without.config.redis).toBeUndefined();
    const withRedis = loadApiConfig({ DATABASE_URL: "postgresql://x/y", REDIS_URL: "redis://r:6379" });
    expect(withRedis.ok && withRedis.config.redis).toEqual({ url: "redis://r:6379", prefix: "keyturn" });
    const bad = loadApiConfig({
      DATABASE_URL: "postgresql://x/y",
      REDIS_URL: "http://r",
      REDIS_PREFIX: "a:b",
    });
    expect(bad.ok ? [] : bad.problems.join("\n")).toMatch(/REDIS_URL[\s\S]*REDIS_PREFIX/);
  });
});
