import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REFRESH_BEFORE_MS, writeCachedCredentials } from "./aws/credential-cache.js";
import { answerFromCache } from "./fast-credentials.js";

// credential_process's fast path: answered from the private cache only while the credentials have
// more than REFRESH_BEFORE_MS left, and only for an invocation the cache can answer.

const NOW = new Date("2030-01-01T12:00:00.000Z");
let home: string;
let written: string[];

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "keyturn-fast-path-"));
  written = [];
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const env = () => ({ home, now: () => NOW, write: (text: string) => written.push(text) });
const directory = () => join(home, ".config", "keyturn");
const cache = (expiresInMs: number) =>
  writeCachedCredentials(directory(), "s3-data", {
    Version: 1,
    AccessKeyId: "ASIAEXAMPLE",
    SecretAccessKey: "secret",
    SessionToken: "token",
    Expiration: new Date(NOW.getTime() + expiresInMs).toISOString(),
  });

describe("answerFromCache", () => {
  it("prints fresh cached credentials as credential_process JSON, from a 0600 file", async () => {
    await cache(REFRESH_BEFORE_MS + 60_000);
    expect((await stat(join(directory(), "credentials", "s3-data.json"))).mode & 0o777).toBe(0o600);
    const argv = [
      "credentials",
      "s3-data",
      "--sso-start-url",
      "https://x.awsapps.com/start",
      "--sso-region",
      "eu-west-1",
    ];
    expect(await answerFromCache(argv, env())).toBe(true);
    expect(JSON.parse(written.join(""))).toMatchObject({ Version: 1, AccessKeyId: "ASIAEXAMPLE" });
  });

  it("leaves credentials about to expire, other flows, other commands and --help to the full CLI", async () => {
    await cache(REFRESH_BEFORE_MS - 1);
    expect(await answerFromCache(["credentials", "s3-data"], env())).toBe(false);
    await cache(REFRESH_BEFORE_MS + 60_000);
    expect(await answerFromCache(["credentials", "other-flow"], env())).toBe(false);
    expect(await answerFromCache(["credentials", "s3-data", "--help"], env())).toBe(false);
    expect(await answerFromCache(["credentials", "../s3-data"], env())).toBe(false);
    expect(await answerFromCache(["status", "s3-data"], env())).toBe(false);
    expect(written).toEqual([]);
  });
});
