// Keyturn's apps as processes of their own, started as in production (tsx on src/main.ts) by the
// local runner's helper, so that their latency and their memory are theirs and not the bench's.
import { type AppProcess, startApp } from "../../apps/local/src/processes.js";
import {
  type ChildWorker,
  killChildWorkers,
  startChildWorker,
} from "../../apps/worker/src/testing/child-worker.js";
import type { EmulatorProcess } from "../../apps/worker/src/testing/emulator-process.js";
import { onCleanUp, REDIS_URL, sleep } from "./scratch.js";

export type RunningApp = AppProcess & {
  pid: number;
  port: number;
  /** The tail of what it wrote, to explain a failure. */
  output(): string;
};

const OUTPUT_LIMIT = 32 * 1024;

/**
 * Starts `entry` with `env` and resolves once one of its log lines tells the port it listens on
 * (`portOf` reads it from a JSON log line), or rejects with its output if it dies first.
 */
export async function startAppProcess(input: {
  name: string;
  entry: string;
  env: Record<string, string>;
  portOf(record: Record<string, unknown>): number | undefined;
  timeoutMs?: number;
}): Promise<RunningApp> {
  const app = startApp(input.name, input.entry, input.env, true);
  onCleanUp(`${input.name} process`, () => app.stop());
  const pid = app.child.pid;
  if (pid === undefined) {
    throw new Error(`could not start ${input.name}`);
  }
  let output = "";
  let rest = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${input.name} did not start within ${(input.timeoutMs ?? 60_000) / 1000} s:\n${output}`),
        ),
      input.timeoutMs ?? 60_000,
    );
    const read = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output = (output + text).slice(-OUTPUT_LIMIT);
      const lines = (rest + text).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const found = parsePort(line, input.portOf);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    };
    app.child.stdout?.on("data", read);
    app.child.stderr?.on("data", read);
    app.child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${input.name} exited (${code}) before it was ready:\n${output}`));
    });
  });
  return { ...app, pid, port, output: () => output };
}

function parsePort(
  line: string,
  portOf: (record: Record<string, unknown>) => number | undefined,
): number | undefined {
  if (!line.startsWith("{")) {
    return undefined;
  }
  try {
    return portOf(JSON.parse(line) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/** Fastify's own "Server listening at http://host:port" line. */
export function fastifyPort(record: Record<string, unknown>): number | undefined {
  const match = typeof record.msg === "string" ? /listening at http:\/\/[^:]+:(\d+)/.exec(record.msg) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * One worker process with the deployed settings (32 jobs at once, sweep every 30 s, outbox poll
 * 1 s behind LISTEN/NOTIFY, 18 Identity Center calls/s), stopped when the bench cleans up.
 */
export async function startDeployedWorker(input: {
  databaseUrl: string;
  emulator: EmulatorProcess;
  prefix: string;
}): Promise<ChildWorker> {
  const worker = await startChildWorker({
    ...input,
    redisUrl: REDIS_URL,
    concurrency: 32,
    sweepIntervalSeconds: 30,
    outboxPollMs: 1000,
    callsPerSecond: 18,
  });
  onCleanUp("worker", async () => {
    worker.signal("SIGTERM");
    await Promise.race([worker.exited, sleep(15_000)]);
    await killChildWorkers();
  });
  return worker;
}
