// Shared by the CLI's tests: the real API in a process of its own on a fresh database, tokens
// minted through the use case (as `pnpm token:create` does), and the BUILT CLI (dist/keyturn.mjs,
// bundled by global-setup.ts) run as a child process with a temporary HOME and config directory.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrismaClient, createUnitOfWork, type PrismaClient } from "@keyturn/db";
import { type ChildApi, startChildApi } from "@keyturn/testkit/child-api";
import { type ApiScope, createApiToken, type Deps, revokeApiToken } from "@keyturn/usecases";
import { CLI_BUNDLE } from "./paths.js";

export { CLI_BUNDLE } from "./paths.js";

export const ADMIN_SCOPES: readonly ApiScope[] = [
  "requests:read",
  "requests:write",
  "flows:admin",
  "audit:read",
  "tokens:admin",
];

export type CliResult = {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (fails the test with the output when it is not). */
  json<T = unknown>(): T;
};

export type RunOptions = {
  /** Extra or overriding environment variables; a value of undefined removes one. */
  env?: Record<string, string | undefined>;
  /** Written to the CLI's stdin (then closed). */
  input?: string;
  cwd?: string;
};

/**
 * Runs the built CLI with exactly the given environment (plus PATH): nothing leaks in from the
 * developer's own shell or config directory.
 */
export function runCliProcess(
  args: readonly string[],
  env: Record<string, string>,
  options: RunOptions = {},
) {
  return new Promise<CliResult>((resolve, reject) => {
    const merged: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) {
        delete merged[name];
      } else {
        merged[name] = value;
      }
    }
    const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
      env: merged,
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(
              `keyturn ${args.join(" ")} did not print JSON (exit ${code}):\n${stdout}\n${stderr}`,
            );
          }
        },
      }),
    );
    child.stdin.end(options.input ?? "");
  });
}

export type CliHarness = {
  api: ChildApi;
  prisma: PrismaClient;
  usecases: Deps;
  /** The temporary HOME the CLI runs with; its config directory is `${home}/.config/keyturn`. */
  home: string;
  configDirectory: string;
  /** A token holding every admin scope, which `run` passes as KEYTURN_TOKEN unless told otherwise. */
  adminToken: string;
  /** Mints a token through the use case. */
  token(
    scopes: readonly ApiScope[],
    options?: { owner?: string; service?: boolean; name?: string; expiresAt?: Date },
  ): Promise<{ id: string; token: string }>;
  revoke(id: string): Promise<void>;
  /** The built CLI against this API, as the admin (override KEYTURN_TOKEN through options.env). */
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  close(): Promise<void>;
};

/**
 * Starts the API (apps/api/src/main.ts) on `databaseUrl`; `apiEnv` adds to its environment (for
 * example AWS_REGION, AWS_ENDPOINT_URL_S3 and credentials pointing at the testkit's emulator).
 */
export async function startCliHarness(options: {
  databaseUrl: string;
  apiEnv?: Record<string, string>;
}): Promise<CliHarness> {
  const api = await startChildApi({
    databaseUrl: options.databaseUrl,
    env: { ...options.apiEnv },
  });
  const prisma = createPrismaClient({ databaseUrl: options.databaseUrl, maxConnections: 2 });
  const clock = { now: () => new Date() };
  const ids = { uuid: () => randomUUID() };
  const usecases: Deps = { uow: createUnitOfWork(prisma, { clock, ids }), clock, ids };
  const system = { type: "system", id: "cli-test" } as const;
  const home = await mkdtemp(join(tmpdir(), "keyturn-cli-home-"));

  const token: CliHarness["token"] = async (scopes, tokenOptions = {}) => {
    const result = await createApiToken(usecases, {
      name: tokenOptions.name ?? `cli-test-${randomUUID().slice(0, 8)}`,
      ownerKind: tokenOptions.service === true ? "service" : "person",
      owner: tokenOptions.owner ?? (tokenOptions.service === true ? "ci-bot" : "admin@example.com"),
      scopes,
      ...(tokenOptions.expiresAt === undefined ? {} : { expiresAt: tokenOptions.expiresAt }),
      by: system,
    });
    if (!result.ok) {
      throw new Error(`could not mint a test token: ${result.error.message}`);
    }
    return { id: result.value.record.id, token: result.value.token };
  };
  const admin = await token(ADMIN_SCOPES, { name: "cli-test-admin" });

  return {
    api,
    prisma,
    usecases,
    home,
    configDirectory: join(home, ".config", "keyturn"),
    adminToken: admin.token,
    token,
    async revoke(id) {
      const revoked = await revokeApiToken(usecases, { id, by: system });
      if (!revoked.ok) {
        throw new Error(`could not revoke token ${id}: ${revoked.error.code}`);
      }
    },
    run(args, runOptions = {}) {
      return runCliProcess(
        args,
        {
          HOME: home,
          XDG_CONFIG_HOME: join(home, ".config"),
          KEYTURN_API_URL: api.url,
          KEYTURN_TOKEN: admin.token,
        },
        runOptions,
      );
    },
    async close() {
      api.kill("SIGTERM");
      await api.exited;
      await prisma.$disconnect();
      await rm(home, { recursive: true, force: true });
    },
  };
}
