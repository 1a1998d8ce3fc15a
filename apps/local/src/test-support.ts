// Shared by the main command's e2e tests: its environment on free ports, with no real AWS or Slack.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** Resolves when nothing listens on `port` any more: it can be bound again. */
export function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export type LocalPorts = { api: number; slack: number; worker: number; emulator: number; fakeSlack: number };

/**
 * The main command's environment for a test: its own database, ports and Redis prefix, with the
 * local AWS emulator and fake Slack chosen explicitly (whatever AWS or Slack variables are set).
 */
export async function localEnv(
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string | undefined>; ports: LocalPorts }> {
  const ports: LocalPorts = {
    api: await freePort(),
    slack: await freePort(),
    worker: await freePort(),
    emulator: await freePort(),
    fakeSlack: await freePort(),
  };
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    API_PORT: String(ports.api),
    SLACK_PORT: String(ports.slack),
    WORKER_HEALTH_PORT: String(ports.worker),
    AWS_EMULATOR_PORT: String(ports.emulator),
    SLACK_FAKE_PORT: String(ports.fakeSlack),
    KEYTURN_LOCAL_AWS: "emulator",
    KEYTURN_LOCAL_SLACK: "fake",
    ...extra,
  };
  return { env, ports };
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** A failed test must not leave a stack running: everything is in each main's process group. */
export function killMains(): void {
  for (const main of running) {
    if (main.pid !== undefined && main.exitCode === null) {
      try {
        process.kill(-main.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  running.clear();
}

export type Started = {
  main: ChildProcessWithoutNullStreams;
  ports: LocalPorts;
  pids: Record<string, number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
};

/** Starts the main command in a process group of its own and resolves once it says it is ready. */
export async function startMain(
  env: Record<string, string | undefined>,
  ports: LocalPorts,
): Promise<Started> {
  const main = spawn(process.execPath, ["--import", "tsx", "apps/local/src/main.ts"], {
    cwd: ROOT,
    env,
    // Its own process group, as a shell gives a foreground job: Ctrl-C signals the whole group.
    detached: true,
  });
  running.add(main);
  void new Promise((resolve) => main.once("exit", resolve)).then(() => running.delete(main));
  let output = "";
  let onOutput = () => {};
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    onOutput();
  };
  main.stdout.on("data", collect);
  main.stderr.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    main.once("exit", (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    onOutput = () => {
      if (output.includes("Ctrl-C stops everything.")) {
        resolve();
      }
    };
    void exited.then((exit) =>
      reject(new Error(`main ended before it was ready (${JSON.stringify(exit)}):\n${output}`)),
    );
  });
  const pids: Record<string, number> = {};
  for (const match of output.matchAll(/(\w+) started \(pid (\d+)\)/g)) {
    pids[match[1] ?? ""] = Number(match[2]);
  }
  return { main, ports, pids, exited, output: () => output };
}
