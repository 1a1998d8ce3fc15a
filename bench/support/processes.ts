// Keyturn's apps as processes of their own, started as in production (tsx on src/main.ts) by the
// local runner's helper, so that their latency and their memory are theirs and not the bench's.
import { type AppProcess, startApp } from "../../apps/local/src/processes.js";
import { onCleanUp } from "./scratch.js";

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
