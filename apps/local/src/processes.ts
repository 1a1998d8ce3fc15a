import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** How an app process ended. */
export type AppExit = { code: number | null; signal: NodeJS.Signals | null };

export type AppProcess = {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has ended, however that happened. */
  exited: Promise<AppExit>;
  /**
   * Asks it to stop (SIGTERM: it finishes what it is doing and closes its connections) unless it
   * already ended; SIGKILL if it is still running `graceMs` later. Resolves with how it ended.
   */
  stop(graceMs?: number): Promise<AppExit>;
  /** SIGKILL at once (a second Ctrl-C). */
  kill(): void;
};

/** Runs one Keyturn app as its own process (as in production), its output prefixed with its name. */
export function startApp(
  name: string,
  entry: string,
  /** The app's whole environment (main.ts decides what it inherits: only main reads process.env). */
  env: NodeJS.ProcessEnv,
  quiet: boolean,
): AppProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      if (!quiet) {
        for (const line of lines) {
          process.stdout.write(`${prefix}${line}\n`);
        }
      }
    });
  }
  // "exit", not "close": a grandchild holding the pipes open must not keep us waiting.
  const exited = new Promise<AppExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    exited,
    async stop(graceMs = 15_000) {
      if (running()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        const exit = await exited;
        clearTimeout(timer);
        return exit;
      }
      return exited;
    },
    kill() {
      if (running()) {
        child.kill("SIGKILL");
      }
    },
  };
}

/**
 * Ended the way a Keyturn app ends when asked to stop: exit code 0, or the default action of a
 * SIGINT/SIGTERM that arrived before the app had installed its handlers (very early on).
 */
export function stoppedCleanly(exit: AppExit): boolean {
  return exit.code === 0 || exit.signal === "SIGINT" || exit.signal === "SIGTERM";
}

/** Waits for an HTTP endpoint to answer 200, or for the process to die (then says why). */
export async function waitForHttp(url: string, app: AppProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null) {
      throw new Error(`${app.name} exited with code ${app.child.exitCode} before it was ready`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${app.name} did not answer ${url} within ${timeoutMs / 1000} s`);
}

/** Polls a condition that lives in another process (a row, an emulator's state, a log line). */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
