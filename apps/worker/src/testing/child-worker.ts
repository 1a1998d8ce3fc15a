import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { clearPrefix } from "../worker-harness.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const mainScript = fileURLToPath(new URL("../main.ts", import.meta.url));

export type ChildWorkerOptions = {
  databaseUrl: string;
  emulator: { endpoint: string; region: string };
  prefix: string;
  /** Default: the shared test Redis. */
  redisUrl?: string;
  sweepIntervalSeconds?: number;
  concurrency?: number;
  /** Default 50 ms: the NOTIFY wakes the relay, the poll is only the safety net. */
  outboxPollMs?: number;
  /** Identity Center calls per second shared by all workers; default the deployed 18. */
  callsPerSecond?: number;
  /** More settings (e.g. SLACK_BOT_TOKEN), applied last. */
  env?: Record<string, string>;
};

type ChildExit = { code: number | null; signal: NodeJS.Signals | null; at: number };

export type ChildWorker = {
  pid: number;
  /** `host:pid`, as main.ts names its claims. */
  owner: string;
  healthUrl: string;
  /** True from its start until it exits (or a test marks it down as it kills it). */
  up: boolean;
  /** Resolves when the process has ended, with how and when (epoch ms). */
  exited: Promise<ChildExit>;
  signal(signal: NodeJS.Signals): void;
  /** The tail of what it wrote, to explain a failure. */
  output(): string;
};

const OUTPUT_LIMIT = 1024 * 1024;
const live = new Set<ChildProcess>();

/**
 * Runs the real composition root (src/main.ts) in a process of its own, configured only through
 * its environment, with the AWS SDK pointed at the emulator by AWS_ENDPOINT_URL. Resolves once it
 * logged that it started (health server listening), so a test can signal it as an operator would.
 */
export async function startChildWorker(options: ChildWorkerOptions): Promise<ChildWorker> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl ?? "redis://127.0.0.1:6379",
    REDIS_PREFIX: options.prefix,
    WORKER_HEALTH_PORT: "0",
    WORKER_CONCURRENCY: String(options.concurrency ?? 16),
    SWEEP_INTERVAL_SECONDS: String(options.sweepIntervalSeconds ?? 1),
    OUTBOX_POLL_MS: String(options.outboxPollMs ?? 50),
    AWS_ENDPOINT_URL: options.emulator.endpoint,
    AWS_REGION: options.emulator.region,
    AWS_ACCESS_KEY_ID: "AKIAKEYTURNEXAMPLE01",
    AWS_SECRET_ACCESS_KEY: "not-checked",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CALLS_PER_SECOND: String(options.callsPerSecond ?? 18),
    LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? "info",
    LOG_PRETTY: "false",
    ...options.env,
  };
  const child = spawn(process.execPath, ["--import", "tsx", mainScript], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let output = "";
  let started: ((value: { owner: string; healthUrl: string }) => void) | undefined;
  const startedLine = new Promise<{ owner: string; healthUrl: string }>((resolve) => {
    started = resolve;
  });
  const collect = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-OUTPUT_LIMIT);
    const resolve = started;
    if (resolve !== undefined && output.includes("keyturn worker started")) {
      const parsed = output
        .split("\n")
        .map(parseStartLine)
        .find((line) => line !== undefined);
      if (parsed !== undefined) {
        resolve(parsed);
        started = undefined;
      }
    }
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal, at: Date.now() });
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error("could not start the worker process");
  }
  const ready = await Promise.race([
    startedLine,
    exited.then((exit) => {
      throw new Error(`worker process ended before starting (${JSON.stringify(exit)}):\n${output}`);
    }),
    new Promise<never>((_, reject) => {
      setTimeout(
        // A bound that ends a hung start, generous for a machine whose cores are busy elsewhere.
        () => reject(new Error(`worker process did not start within 120 s:\n${output}`)),
        120_000,
      ).unref();
    }),
  ]);
  const worker: ChildWorker = {
    pid,
    owner: ready.owner,
    healthUrl: ready.healthUrl,
    up: true,
    exited,
    signal: (signal) => {
      child.kill(signal);
    },
    output: () => output,
  };
  void exited.then(() => {
    worker.up = false;
  });
  return worker;
}

function parseStartLine(line: string): { owner: string; healthUrl: string } | undefined {
  if (!line.includes("keyturn worker started")) {
    return undefined;
  }
  try {
    const record = JSON.parse(line) as { owner?: unknown; health?: unknown };
    if (typeof record.owner === "string" && typeof record.health === "string") {
      return { owner: record.owner, healthUrl: record.health };
    }
  } catch {
    // Not a JSON log line (a warning printed by a dependency).
  }
  return undefined;
}

/** SIGKILLs every worker process this module started that is still running (afterAll). */
export async function killChildWorkers(): Promise<void> {
  const ending = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  );
  await Promise.all(ending);
}

/**
 * The end of a test file that ran worker processes on its own Redis prefix: no worker left
 * running, no key left behind (never FLUSHALL: other test files share the server).
 */
export async function endChildWorkerTest(prefix: string, redisUrl = "redis://127.0.0.1:6379"): Promise<void> {
  await killChildWorkers();
  const redis = new Redis(redisUrl);
  try {
    await clearPrefix(redis, prefix);
  } finally {
    await redis.quit();
  }
}
