import { randomUUID } from "node:crypto";
import { demoSeed, startAwsEmulator, startSlackFake } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./processes.js";
import { freePort, killMains, localEnv, portIsFree, startMain } from "./test-support.js";

// The main command's two switches, each on its own: another AWS endpoint with the local fake Slack,
// and a real (here: the test's own) Slack with the local AWS emulator. Each app must reach the one
// chosen, and the main command must start only the local half.

const database = useTestDatabase();
afterEach(killMains);

describe("the main command's AWS and Slack switches", () => {
  it("KEYTURN_LOCAL_AWS=real: the apps use the configured AWS endpoint, with the local fake Slack", async () => {
    const aws = await startAwsEmulator({ port: await freePort() });
    try {
      aws.seed(demoSeed());
      const { env, ports } = await localEnv(database.url, {
        REDIS_PREFIX: `keyturn-switch-${randomUUID().slice(0, 8)}`,
        LOG_LEVEL: "warn",
        KEYTURN_LOCAL_AWS: "real",
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_REGION: aws.region,
        AWS_ACCESS_KEY_ID: "AKIAKEYTURNEXAMPLE01",
        AWS_SECRET_ACCESS_KEY: "not-checked",
        AWS_ACCESS_PORTAL_URL: "https://d-0123456789.awsapps.com/start",
        AWS_SSO_REGION: aws.region,
      });
      const started = await startMain(env, ports);
      expect(started.output()).toContain(`AWS: real (KEYTURN_LOCAL_AWS=real): region ${aws.region}`);
      expect(started.output()).toContain("Slack: local fake Slack Web API");
      // No emulator of its own: its port stays free.
      expect(await portIsFree(ports.emulator)).toBe(true);
      // A request through the API: the worker looks its requester up in our Identity Center.
      const token = /Admin token \(shown once, valid 12 h\): (\S+)/.exec(started.output())?.[1];
      const submitted = await fetch(`http://127.0.0.1:${ports.api}/v1/requests`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          flow: "s3-data",
          requesterEmail: "alice@example.com",
          durationSeconds: 3600,
          reason: "INC-1 check the switch",
        }),
      });
      expect(submitted.status, await submitted.text()).toBe(201);
      await until("the worker's Identity Center lookup", async () =>
        aws.callLog().some((call) => call.service === "identitystore" && call.operation === "GetUserId")
          ? true
          : undefined,
      );
      started.main.kill("SIGINT");
      expect(await started.exited).toEqual({ code: 0, signal: null });
    } finally {
      await aws.close();
    }
  }, 120_000);

  it("KEYTURN_LOCAL_SLACK=real: the apps use the configured Slack, with the local AWS emulator", async () => {
    const slack = await startSlackFake({ port: await freePort() });
    try {
      const { env, ports } = await localEnv(database.url, {
        REDIS_PREFIX: `keyturn-switch-${randomUUID().slice(0, 8)}`,
        LOG_LEVEL: "warn",
        KEYTURN_LOCAL_SLACK: "real",
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_API_URL: slack.url,
        SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef",
        // These must not take the apps to another AWS: the emulator is what they get.
        AWS_ENDPOINT_URL_SSO_ADMIN: "http://127.0.0.1:9",
        AWS_PROFILE: "someone-elses",
      });
      const started = await startMain(env, ports);
      expect(started.output()).toContain("AWS: local emulator on");
      expect(started.output()).toContain(`Slack: real (KEYTURN_LOCAL_SLACK=real): ${slack.url}`);
      expect(await portIsFree(ports.fakeSlack)).toBe(true);
      // The Slack app verified its token with our Slack.
      expect(slack.calls().some((call) => call.method === "auth.test")).toBe(true);
      // And the worker's Identity Center calls reached the emulator main started, not the shell's.
      const endpoint = /AWS: local emulator on (http:\/\/[\d.:]+)/.exec(started.output())?.[1];
      const identityCenterCalls = async () => {
        const calls = (await (await fetch(`${endpoint}/_emulator/calls`)).json()) as Array<{
          service: string;
        }>;
        return calls.filter((call) => call.service === "sso-admin").length;
      };
      await until("the worker's first Identity Center call", async () =>
        (await identityCenterCalls()) > 0 ? true : undefined,
      );
      started.main.kill("SIGINT");
      expect(await started.exited).toEqual({ code: 0, signal: null });
      expect(started.output()).not.toContain("did not stop cleanly");
    } finally {
      await slack.close();
    }
  }, 120_000);
});
