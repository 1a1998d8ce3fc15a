import { type ChildProcess, spawn } from "node:child_process";
import { CreateUserCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { CreatePermissionSetCommand, ListInstancesCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { startAwsEmulator } from "./aws-emulator/index.js";

// Two Identity Center backends behind one shape, for contract tests that must pass against both:
// the project's own emulator, and moto (an AWS emulator written by others, a Python package in
// the machine image) as a second opinion on the wire. Both are seeded through the same calls'
// results, and tests talk to either only through the real AWS SDK. Only tests import this file
// (it needs the SDK devDependencies and, for moto, `moto_server` on PATH).

export type IdentityCenterSeed = {
  /** The organization's accounts (moto accepts any account id; the emulator only these). */
  accounts: readonly string[];
  users: ReadonlyArray<{ userName: string; emails?: readonly string[] }>;
  permissionSets: ReadonlyArray<{ name: string; sessionDuration?: string }>;
};

export type SeededIdentityCenter = {
  instanceArn: string;
  identityStoreId: string;
  /** userName -> UserId */
  users: Record<string, string>;
  /** name -> PermissionSetArn */
  permissionSets: Record<string, string>;
};

export type IdentityCenterBackend = {
  readonly name: "testkit emulator" | "moto";
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  seed(seed: IdentityCenterSeed): Promise<SeededIdentityCenter>;
  close(): Promise<void>;
};

const REGION = "eu-west-1";
const CREDENTIALS = { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "not-checked" };

/** The in-process emulator of packages/testkit, seeded directly. */
export async function startTestkitBackend(): Promise<IdentityCenterBackend> {
  const emulator = await startAwsEmulator({ region: REGION, assignmentDelayMs: 20 });
  return {
    name: "testkit emulator",
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: CREDENTIALS,
    async seed(seed) {
      const seeded = emulator.seed({
        accounts: seed.accounts,
        users: seed.users,
        permissionSets: seed.permissionSets,
      });
      return {
        instanceArn: seeded.instanceArn,
        identityStoreId: seeded.identityStoreId,
        users: seeded.users,
        permissionSets: seeded.permissionSets,
      };
    },
    close: () => emulator.close(),
  };
}

export const MOTO_MISSING =
  "moto_server was not found on PATH. The AWS contract tests run against it as a second opinion on " +
  "the wire: install it with `pip install 'moto[server]==5.2.1'` (Python 3), or put it on PATH.";

const MOTO_START_TIMEOUT_MS = 60_000;

/**
 * A `moto_server` of its own on a free loopback port (it picks one and prints it), seeded through
 * the SDK as an administrator would: moto's default Identity Center instance, CreatePermissionSet
 * and identitystore CreateUser. Stopped by close().
 */
export async function startMotoBackend(): Promise<IdentityCenterBackend> {
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`moto_server did not start within ${MOTO_START_TIMEOUT_MS} ms:\n${output}`));
    }, MOTO_START_TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === "ENOENT" ? new Error(MOTO_MISSING, { cause: error }) : error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
  // Keep reading so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  const config = { endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
  const ssoAdmin = new SSOAdminClient(config);
  const identityStore = new IdentitystoreClient(config);
  return {
    name: "moto",
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    async seed(seed) {
      const instance = (await ssoAdmin.send(new ListInstancesCommand({}))).Instances?.[0];
      const instanceArn = instance?.InstanceArn ?? "";
      const identityStoreId = instance?.IdentityStoreId ?? "";
      const permissionSets: Record<string, string> = {};
      for (const set of seed.permissionSets) {
        const created = await ssoAdmin.send(
          new CreatePermissionSetCommand({
            InstanceArn: instanceArn,
            Name: set.name,
            ...(set.sessionDuration === undefined ? {} : { SessionDuration: set.sessionDuration }),
          }),
        );
        permissionSets[set.name] = created.PermissionSet?.PermissionSetArn ?? "";
      }
      const users: Record<string, string> = {};
      for (const user of seed.users) {
        const created = await identityStore.send(
          new CreateUserCommand({
            IdentityStoreId: identityStoreId,
            UserName: user.userName,
            DisplayName: user.userName,
            Name: { GivenName: user.userName, FamilyName: "Example" },
            ...(user.emails === undefined
              ? {}
              : {
                  Emails: user.emails.map((value, i) => ({ Value: value, Type: "work", Primary: i === 0 })),
                }),
          }),
        );
        users[user.userName] = created.UserId ?? "";
      }
      return { instanceArn, identityStoreId, users, permissionSets };
    },
    async close() {
      ssoAdmin.destroy();
      identityStore.destroy();
      await stop(child);
    },
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Both backends, for `describe.each`: the contract holds on each or the test says where not. */
export const IDENTITY_CENTER_BACKENDS = [
  { name: "testkit emulator", start: startTestkitBackend },
  { name: "moto", start: startMotoBackend },
] as const;
