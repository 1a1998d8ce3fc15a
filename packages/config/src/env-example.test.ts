import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ApiEnvSchema, loadApiConfig } from "./api.js";
import { SlackEnvSchema } from "./slack.js";
import { WorkerEnvSchema } from "./worker.js";

const example = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
const documented = example
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"))
  .map((line) => line.split("=")[0] ?? "");
const schemaKeys = [
  ...new Set([
    ...Object.keys(ApiEnvSchema.shape),
    ...Object.keys(WorkerEnvSchema.shape),
    ...Object.keys(SlackEnvSchema.shape),
  ]),
];

describe(".env.example", () => {
  it("documents every variable the schemas read, and nothing else", () => {
    expect([...documented].sort()).toEqual([...schemaKeys].sort());
  });

  it("is itself a valid configuration", () => {
    const env = Object.fromEntries(
      example
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    expect(loadApiConfig(env).ok).toBe(true);
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
