import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

// By path, not by import: testkit never depends on an app (the API's own tests and the CLI's use this).
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const mainScript = fileURLToPath(new URL("../../../apps/api/src/main.ts", import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;

export type ChildApi = {
  pid: number;
  url: string;
  /** Resolves once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** The tail of what it wrote, to explain a failure. */
  output(): string;
};

/**
 * The API's real composition root (apps/api/src/main.ts) in a process of its own, configured through its
 * environment only; resolves once Fastify says where it listens.
 */
export async function startChildApi(options: {
  databaseUrl: string;
  env?: Record<string, string>;
}): Promise<ChildApi> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", mainScript], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: options.databaseUrl,
      API_HOST: "127.0.0.1",
      API_PORT: "0",
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let listening: ((url: string) => void) | undefined;
  const url = new Promise<string>((resolve) => {
    listening = resolve;
  });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
    const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    if (found !== undefined) {
      listening?.(found);
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const started = await Promise.race([
    url,
    exited.then((exit) => {
      throw new Error(`the API exited before listening (${JSON.stringify(exit)}):\n${output}`);
    }),
  ]);
  return {
    pid: child.pid ?? -1,
    url: started,
    exited,
    kill: (signal) => {
      child.kill(signal);
    },
    output: () => output,
  };
}
