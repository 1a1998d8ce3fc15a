import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromIni } from "@aws-sdk/credential-provider-ini";
import { CLI_BUNDLE, type CliResult, runCliProcess } from "@keyturn/cli/test-support";
import { createSlackClient, type SignedSlackClient, type SlackFake, startSlackFake } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "./processes.js";
import { freePort, killMains, localEnv, startMain } from "./test-support.js";

// The requester's path through the BUILT `keyturn` CLI, as child processes against the whole
// stack (API, Slack app and worker as processes, the AWS emulator, a fake Slack this test owns):
// keyturn login approved and rejected in Slack, request --wait approved and denied by Bob in Slack,
// and the real AWS SDK reading the protected object through a profile whose credential_process is
// `keyturn credentials`, refused with a clear message once the access is revoked.

const database = useTestDatabase();
const SIGNING_SECRET = "fedcba9876543210fedcba9876543210";
const CHANNEL = "C0KEYTURN";
const PORTAL = "https://d-0123456789.awsapps.com/start";
const BUCKET = "keyturn-demo-data";

let slack: SlackFake;
let client: SignedSlackClient;
let apiUrl = "";
let emulatorUrl = "";
const homes: string[] = [];

beforeAll(async () => {
  slack = await startSlackFake({ port: await freePort() });
  slack.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  slack.addUser({ id: "U0BOB", name: "bob", email: "bob@example.com" });
  slack.addChannel({ id: CHANNEL, name: "access-requests", members: ["U0BOB"] });
  const { env, ports } = await localEnv(database.url, {
    REDIS_PREFIX: `keyturn-cli-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: "warn",
    KEYTURN_LOCAL_SLACK: "real",
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.url,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
  });
  await startMain(env, ports);
  apiUrl = `http://127.0.0.1:${ports.api}`;
  emulatorUrl = `http://127.0.0.1:${ports.emulator}`;
  client = createSlackClient({
    appUrl: `http://127.0.0.1:${ports.slack}`,
    signingSecret: SIGNING_SECRET,
    fake: slack,
  });
});
afterAll(async () => {
  killMains();
  await slack.close();
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

/** A person's machine: a HOME of its own, the CLI's settings only in its config file. */
async function machine() {
  const home = await mkdtemp(join(tmpdir(), "keyturn-requester-"));
  homes.push(home);
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    // The AWS SDK inside the CLI reaches the emulator's SSO portal and OIDC service.
    AWS_ENDPOINT_URL: emulatorUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  return { home, env, cli: (args: readonly string[]) => runCliProcess(args, env) };
}

async function signInDm(since: number) {
  const call = await slack.waitForCall(
    "chat.postMessage",
    (c) => c.at >= since && String(c.args.text).includes("Sign in to the Keyturn CLI"),
    60_000,
  );
  return {
    channel: String(call.response.channel),
    ts: String(call.response.ts),
    text: String(call.args.text),
  };
}

async function answerDm(userId: string, dm: { channel: string; ts: string }, actionId: string) {
  const responseUrl = slack.newResponseUrl({
    kind: "actions",
    channelId: dm.channel,
    userId,
    messageTs: dm.ts,
  });
  await client.blockAction({ userId, actionId, channelId: dm.channel, messageTs: dm.ts, responseUrl });
}

async function loggedIn(person: { email: string; slackId: string }) {
  const box = await machine();
  const since = Date.now();
  const login = box.cli(["login", "--email", person.email, "--api", apiUrl]);
  const dm = await signInDm(since);
  await answerDm(person.slackId, dm, "signin.approve");
  const result = await login;
  return { ...box, login: result, dm };
}

function expectOk(result: CliResult): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

describe("keyturn login", () => {
  it("approved in Slack: the DM shows the code the terminal shows, the token is stored 0600, flows lists what she may request", async () => {
    const alice = await loggedIn({ email: "alice@example.com", slackId: "U0ALICE" });
    expectOk(alice.login);
    const code = /code ([A-Z]{4}-\d{4})/.exec(alice.login.stderr)?.[1];
    expect(code).toBeDefined();
    expect(alice.dm.text).toContain(`Code ${code}`);
    expect(alice.dm.channel).toBe(slack.dmChannelId("U0ALICE"));
    expect(alice.login.stdout).toContain("Signed in as alice@example.com");
    const file = join(alice.home, ".config", "keyturn", "config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
    expect(stored).toMatchObject({
      apiUrl,
      token: expect.stringMatching(/^kt_/),
      tokenId: expect.any(String),
    });

    const flows = await alice.cli(["flows", "--json"]);
    expectOk(flows);
    expect(
      flows
        .json<{ name: string }[]>()
        .map((f) => f.name)
        .sort(),
    ).toEqual(["s3-data", "s3-demo"]);

    const logout = await alice.cli(["logout"]);
    expectOk(logout);
    const after = await alice.cli(["flows"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("keyturn login");
  });

  it("rejected in Slack: the CLI says so, exits 1 and stores no token", async () => {
    const bob = await machine();
    const since = Date.now();
    const login = bob.cli(["login", "--email", "bob@example.com", "--api", apiUrl]);
    const dm = await signInDm(since);
    await answerDm("U0BOB", dm, "signin.reject");
    const result = await login;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^keyturn: SIGN_IN_REJECTED: the sign-in was rejected in Slack/m);
    const stored = JSON.parse(await readFile(join(bob.home, ".config", "keyturn", "config.json"), "utf8"));
    expect(stored).not.toHaveProperty("token");
  });
});

describe("keyturn login for someone Slack does not know", () => {
  it("fails as soon as the worker finds nobody to ask, saying so in one line", async () => {
    const box = await machine();
    const result = await box.cli(["login", "--email", "nobody@example.com", "--api", apiUrl]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^keyturn: SIGN_IN_UNDELIVERABLE: Keyturn could not reach nobody@example\.com in Slack to ask/m,
    );
  });
});

describe("keyturn request --wait and credentials", () => {
  async function bobAnswers(actionId: "request.approve" | "request.deny", since: number) {
    const posted = await slack.waitForCall(
      "chat.postMessage",
      (c) => c.at >= since && c.args.channel === CHANNEL,
      60_000,
    );
    await client.blockAction({
      userId: "U0BOB",
      actionId,
      channelId: CHANNEL,
      messageTs: String(posted.response.ts),
    });
  }

  it("follows a denial to the end and exits 1 with who denied", async () => {
    const alice = await loggedIn({ email: "alice@example.com", slackId: "U0ALICE" });
    expectOk(alice.login);
    const since = Date.now();
    const waiting = alice.cli([
      "request",
      "s3-data",
      "--duration",
      "30m",
      "--reason",
      "INC-7 peek",
      "--wait",
    ]);
    await bobAnswers("request.deny", since);
    const result = await waiting;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("pending: waiting for approval");
    expect(result.stderr).toMatch(/^keyturn: request [0-9a-f-]{36} denied by bob@example\.com/);
  });

  it("credentials --request-if-needed files the request, waits for Bob, signs in to Identity Center and prints credentials", async () => {
    const alice = await loggedIn({ email: "alice@example.com", slackId: "U0ALICE" });
    expectOk(alice.login);
    const sso = ["--sso-start-url", PORTAL, "--sso-region", "eu-west-1"];
    const refused = await alice.cli(["credentials", "s3-data", ...sso]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(
      `keyturn: no active access through flow 's3-data': request it with 'keyturn request s3-data --reason "..." --wait'\n`,
    );

    const since = Date.now();
    const pending = alice.cli([
      "credentials",
      "s3-data",
      ...sso,
      "--request-if-needed",
      "--reason",
      "INC-9 export",
    ]);
    await bobAnswers("request.approve", since);
    const userCode = await until("the device code", async () => {
      const devices = (await (
        await fetch(`${emulatorUrl}/_emulator/device-authorizations`)
      ).json()) as Array<{
        userCode: string;
      }>;
      return devices[0]?.userCode;
    });
    await fetch(`${emulatorUrl}/_emulator/device-authorizations`, {
      method: "POST",
      body: JSON.stringify({ userCode, decision: "approve", user: "alice" }),
    });
    const result = await pending;
    expectOk(result);
    expect(result.stderr).toContain("approved by bob@example.com");
    expect(result.json()).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });
    // Its access is revoked (by Alice, from the CLI) so that later tests start without a grant.
    const status = await alice.cli(["status", "--json"]);
    const active = status.json<Array<{ id: string; state: string }>>().find((r) => r.state === "active");
    expectOk(await alice.cli(["revoke", active?.id ?? "?"]));
  });

  it("approved by Bob: active; the AWS SDK reads the protected object through credential_process, refused after revoke", async () => {
    const alice = await loggedIn({ email: "alice@example.com", slackId: "U0ALICE" });
    expectOk(alice.login);
    const since = Date.now();
    const waiting = alice.cli([
      "request",
      "s3-data",
      "--duration",
      "1h",
      "--reason",
      "INC-42 restore",
      "--wait",
    ]);
    await bobAnswers("request.approve", since);
    const requested = await waiting;
    expectOk(requested);
    const lines = requested.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^request [0-9a-f-]{36}: pending: waiting for approval/);
    expect(requested.stdout).toContain("approved by bob@example.com");
    expect(lines.at(-1)).toMatch(/: active until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    const requestId = /^request ([0-9a-f-]{36})/.exec(lines[0] ?? "")?.[1] ?? "";

    // The profile, as `keyturn profile` prints it, in the machine's own AWS config file.
    const profile = await alice.cli([
      "profile",
      "s3-data",
      "--sso-start-url",
      PORTAL,
      "--sso-region",
      "eu-west-1",
      "--command",
      `${process.execPath} ${CLI_BUNDLE}`,
    ]);
    expectOk(profile);
    expect(profile.stdout).toContain("[profile keyturn-s3-data]");
    const awsConfig = join(alice.home, ".aws", "config");
    await mkdir(join(alice.home, ".aws"), { recursive: true });
    await writeFile(awsConfig, profile.stdout);

    // First use: no Identity Center sign-in cached, so the device flow; Alice approves "in the
    // browser" (the emulator's hook), and the CLI caches the token as the AWS CLI does.
    const first = alice.cli([
      "credentials",
      "s3-data",
      "--sso-start-url",
      PORTAL,
      "--sso-region",
      "eu-west-1",
    ]);
    const userCode = await until("the device code", async () => {
      const pending = (await (
        await fetch(`${emulatorUrl}/_emulator/device-authorizations`)
      ).json()) as Array<{
        userCode: string;
      }>;
      return pending[0]?.userCode;
    });
    const approved = await fetch(`${emulatorUrl}/_emulator/device-authorizations`, {
      method: "POST",
      body: JSON.stringify({ userCode, decision: "approve", user: "alice" }),
    });
    expect(approved.status).toBe(200);
    const credentials = await first;
    expectOk(credentials);
    expect(credentials.stderr).toContain(userCode);
    const document = credentials.json<{ Version: number; AccessKeyId: string; Expiration: string }>();
    expect(document.Version).toBe(1);
    const view = (await (
      await fetch(`${apiUrl}/v1/requests/${requestId}`, {
        headers: {
          authorization: `Bearer ${JSON.parse(await readFile(join(alice.home, ".config", "keyturn", "config.json"), "utf8")).token}`,
        },
      })
    ).json()) as { lease: { endsAt: string } };
    expect(Date.parse(document.Expiration)).toBeLessThanOrEqual(Date.parse(view.lease.endsAt));
    const cacheFile = join(alice.home, ".config", "keyturn", "credentials", "s3-data.json");
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);

    // The real SDK, in this process, with nothing but the profile: credential_process runs the CLI.
    const sdkEnv = {
      HOME: alice.home,
      XDG_CONFIG_HOME: join(alice.home, ".config"),
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: join(alice.home, ".aws", "credentials"),
      AWS_ENDPOINT_URL: emulatorUrl,
    };
    const saved = new Map(
      [
        ...Object.keys(sdkEnv),
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
      ].map((name) => [name, process.env[name]] as const),
    );
    const read = async () => {
      // The shared config's profile, resolved as the SDK's default chain resolves a named profile
      // (fromIni), so that a credential_process refusal surfaces with its own message.
      const s3 = new S3Client({
        region: "eu-west-1",
        credentials: fromIni({ profile: "keyturn-s3-data" }),
        forcePathStyle: true,
        maxAttempts: 1,
      });
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "README.txt" }));
        return object.Body?.transformToString();
      } finally {
        s3.destroy();
      }
    };
    try {
      for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) {
        delete process.env[name];
      }
      Object.assign(process.env, sdkEnv);
      expect(await read()).toBe("Demo data.\n");

      const revoked = await alice.cli(["revoke", requestId, "--reason", "done"]);
      expectOk(revoked);
      expect(revoked.stdout).toContain("revoked");
      const refused = await read().then(
        () => "read",
        (error: unknown) => String(error),
      );
      expect(refused).toContain("no active access through flow 's3-data'");
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) {
          delete process.env[name];
        } else {
          process.env[name] = value;
        }
      }
    }
  });
});
