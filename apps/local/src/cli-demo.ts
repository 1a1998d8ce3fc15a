// The demo's CLI part: the same story from a terminal, through the BUILT `keyturn` CLI run as child
// processes on a machine of Alice's own (a temporary HOME): she signs in by approving a Slack DM,
// requests access and waits while Bob approves in Slack, then the AWS SDK reads the protected
// object through a profile whose credential_process is `keyturn credentials`, and the same profile
// is refused once the access has ended.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromIni } from "@aws-sdk/credential-provider-ini";
import { createSlackClient } from "@keyturn/testkit";
import type { LocalContext } from "./main.js";
import { until } from "./processes.js";

const CLI_ROOT = fileURLToPath(new URL("../../cli/", import.meta.url));
const BUNDLE = join(CLI_ROOT, "dist", "keyturn.mjs");
const BUCKET = "keyturn-demo-data";
const PORTAL = "https://d-0123456789.awsapps.com/start";

export type DemoStep = { title: string; run(): Promise<string> };

type CliRun = { code: number | null; stdout: string; stderr: string };

/** The steps, and what to clean up after them (Alice's temporary HOME). */
export async function cliDemoSteps(
  context: LocalContext,
): Promise<{ steps: DemoStep[]; cleanUp(): Promise<void> }> {
  const { fakeSlack, emulator } = context;
  if (fakeSlack === null || emulator === null) {
    throw new Error("the CLI demo needs the local AWS emulator and fake Slack");
  }
  const seconds = context.demoSeconds;
  const slack = createSlackClient({
    appUrl: context.slackUrl,
    signingSecret: context.signingSecret,
    fake: fakeSlack,
  });
  const home = await mkdtemp(join(tmpdir(), "keyturn-demo-alice-"));
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    // Her AWS SDK (inside the CLI too) reaches the emulator's access portal and OIDC service.
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const keyturn = (args: readonly string[]) =>
    new Promise<CliRun>((resolve, reject) => {
      const child = spawn(process.execPath, [BUNDLE, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
      });
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
  const succeeded = (name: string, run: CliRun) => {
    if (run.code !== 0) {
      throw new Error(`keyturn ${name} exited ${run.code}: ${run.stderr.trim()}`);
    }
    return run;
  };
  const awsConfig = join(home, ".aws", "config");
  const readWithProfile = async () => {
    const s3 = new S3Client({
      region: emulator.region,
      endpoint: emulator.endpoint,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: fromIni({ profile: "keyturn-s3-demo", configFilepath: awsConfig }),
    });
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "README.txt" }));
      return (await object.Body?.transformToString()) ?? "";
    } finally {
      s3.destroy();
    }
  };
  let requestId = "";

  const steps: DemoStep[] = [
    {
      title: "From her terminal: `keyturn login --email alice@example.com`, approved in Slack",
      async run() {
        await promisify(execFile)(process.execPath, [join(CLI_ROOT, "scripts", "build.mjs")]);
        const since = Date.now();
        const login = keyturn(["login", "--email", "alice@example.com", "--api", context.apiUrl]);
        const dm = await fakeSlack.waitForCall(
          "chat.postMessage",
          (c) => c.at >= since && String(c.args.text).includes("Sign in to the Keyturn CLI"),
          20_000,
        );
        const channelId = String(dm.response.channel);
        const messageTs = String(dm.response.ts);
        await slack.blockAction({
          userId: "U0ALICE",
          actionId: "signin.approve",
          channelId,
          messageTs,
          responseUrl: fakeSlack.newResponseUrl({ kind: "actions", channelId, userId: "U0ALICE", messageTs }),
        });
        const done = succeeded("login", await login);
        return `the DM asked "${String(dm.args.text)}"; ${done.stdout.trim()}`;
      },
    },
    {
      title: `\`keyturn request s3-demo --duration ${seconds}s --wait\`, approved by Bob in Slack`,
      async run() {
        const since = Date.now();
        const waiting = keyturn([
          "request",
          "s3-demo",
          "--duration",
          `${seconds}s`,
          "--reason",
          "INC-8 from the terminal",
          "--wait",
        ]);
        const posted = await fakeSlack.waitForCall(
          "chat.postMessage",
          (c) => c.at >= since && c.args.channel === "C0KEYTURN",
          20_000,
        );
        await slack.blockAction({
          userId: "U0BOB",
          actionId: "request.approve",
          channelId: "C0KEYTURN",
          messageTs: String(posted.response.ts),
        });
        const done = succeeded("request --wait", await waiting);
        const lines = done.stdout.trim().split("\n");
        requestId = /^request ([0-9a-f-]{36})/.exec(lines[0] ?? "")?.[1] ?? "";
        return lines.map((line) => line.replace(/^request [0-9a-f-]{36}: /, "")).join(" → ");
      },
    },
    {
      title: "The AWS SDK reads the protected object through `credential_process = keyturn credentials`",
      async run() {
        const profile = succeeded(
          "profile",
          await keyturn([
            "profile",
            "s3-demo",
            "--sso-start-url",
            PORTAL,
            "--sso-region",
            emulator.region,
            // The SDK runs this with its own environment: the command carries Alice's.
            "--command",
            `env HOME=${home} XDG_CONFIG_HOME=${env.XDG_CONFIG_HOME} AWS_ENDPOINT_URL=${emulator.endpoint} ${process.execPath} ${BUNDLE}`,
          ]),
        );
        await mkdir(join(home, ".aws"), { recursive: true });
        await writeFile(awsConfig, profile.stdout);
        // Her first use signs her in to IAM Identity Center (device flow): she confirms the code in
        // the browser, here the emulator's hook.
        const first = keyturn([
          "credentials",
          "s3-demo",
          "--sso-start-url",
          PORTAL,
          "--sso-region",
          emulator.region,
        ]);
        const device = await until("the device sign-in", async () => emulator.pendingDevices()[0], 20_000);
        emulator.approveDevice(device.userCode, "alice");
        succeeded("credentials", await first);
        const text = await readWithProfile();
        return `device code ${device.userCode} confirmed; the SDK read ${JSON.stringify(text)} from s3://${BUCKET}/README.txt`;
      },
    },
    {
      title: "When the access ends, the same profile is refused",
      async run() {
        const headers = { authorization: `Bearer ${context.token}` };
        await until(
          "the CLI's request to expire",
          async () => {
            const response = await fetch(`${context.apiUrl}/v1/requests/${requestId}`, { headers });
            const view = (await response.json()) as { state?: string };
            return view.state === "expired" ? true : undefined;
          },
          seconds * 1000 + 40_000,
        );
        const refused = await readWithProfile().then(
          () => "read",
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
        if (!refused.includes("no active access")) {
          throw new Error(`the profile was not refused as expected: ${refused}`);
        }
        return `refused: ${
          refused
            .split("\n")
            .find((line) => line.includes("no active access"))
            ?.trim() ?? refused
        }`;
      },
    },
  ];
  return { steps, cleanUp: () => rm(home, { recursive: true, force: true }) };
}
