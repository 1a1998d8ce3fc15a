import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT, ADMIN_KEY } from "./test-helpers.js";

// The adapters take no endpoint here: the SDK must find the emulator through the standard
// AWS_ENDPOINT_URL[_<SERVICE>] variables. Environment is per process, so a child process runs the
// adapters with a crafted environment while the emulator serves it from this one.

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));

const script = `
import { createBucketPolicyStore, createIdentityCenter } from "./src/index.ts";
const credentials = { accessKeyId: ${JSON.stringify(ADMIN_KEY)}, secretAccessKey: "not-checked" };
const region = "eu-west-1";
const ic = createIdentityCenter({ region, credentials, retry: { maxAttempts: 1 } });
// Path style cannot be inferred from a variable this package does not read; the root sets it.
const s3 = createBucketPolicyStore({ region, credentials, forcePathStyle: true, retry: { maxAttempts: 1 } });
try {
  const set = await ic.permissionSet("S3Access");
  const user = await ic.findUserByEmail("alice@example.com");
  const encryption = await s3.getEncryption("data-bucket");
  process.stdout.write(JSON.stringify({ set, user, encryption }));
} finally {
  ic.close();
  s3.close();
}
`;

/** The parent's environment without any AWS setting that could leak in, plus `aws`. */
function childEnv(aws: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_")));
  return {
    ...base,
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    // Keeps the SDK's Node 20 end-of-support notice off the child's stderr.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...aws,
  };
}

async function runChild(aws: Record<string, string>): Promise<unknown> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: packageDir,
    env: childEnv(aws),
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

let emu: AwsEmulator;
let deadEndpoint: string;

beforeAll(async () => {
  const dead = await startAwsEmulator();
  deadEndpoint = dead.endpoint;
  await dead.close();
  emu = await startAwsEmulator({ seed: 11 });
  emu.seed({
    accounts: [ACCOUNT],
    users: [{ userName: "alice", emails: ["alice@example.com"] }],
    permissionSets: [{ name: "S3Access", sessionDuration: "PT2H" }],
    buckets: [{ name: "data-bucket", accountId: ACCOUNT }],
    callers: [
      {
        accessKeyId: ADMIN_KEY,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
        accountId: ACCOUNT,
        policies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }],
      },
    ],
  });
});

afterAll(async () => {
  await emu.close();
});

describe("endpoint from the environment", () => {
  it("reaches every service through AWS_ENDPOINT_URL, or through the per-service variables first", {
    timeout: 60_000,
  }, async () => {
    const expected = {
      set: { arn: expect.stringMatching(/^arn:aws:sso:::permissionSet\//), sessionDurationSeconds: 7200 },
      user: { ok: true, value: { userId: expect.any(String), userName: "alice" } },
      encryption: { sseAlgorithm: "AES256", bucketKeyEnabled: false },
    };
    const [shared, perService] = await Promise.all([
      runChild({ AWS_ENDPOINT_URL: emu.endpoint }),
      // The general variable points nowhere; each service's own variable must win over it.
      runChild({
        AWS_ENDPOINT_URL: deadEndpoint,
        AWS_ENDPOINT_URL_SSO_ADMIN: emu.endpoint,
        AWS_ENDPOINT_URL_IDENTITYSTORE: emu.endpoint,
        AWS_ENDPOINT_URL_S3: emu.endpoint,
      }),
    ]);
    expect(shared).toEqual(expected);
    expect(perService).toEqual(expected);
    const services = new Set(emu.callLog().map((call) => call.service));
    expect(services).toEqual(new Set(["sso-admin", "identitystore", "s3"]));
  });
});
