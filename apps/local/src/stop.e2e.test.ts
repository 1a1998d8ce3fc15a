import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalPorts, localEnv, portIsFree, ROOT } from "./test-support.js";

// The main command (as scripts/start.sh runs it) started, then stopped the way a person stops it:
// it must exit 0, leave no app process behind and free every port it listened on.

const database = useTestDatabase();
let running: ChildProcessWithoutNullStreams | undefined;

afterEach(() => {
  // A failed test must not leave the stack running: everything is in the child's process group.
  if (running?.pid !== undefined && running.exitCode === null) {
    try {
      process.kill(-running.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  running = undefined;
});

type Started = {
  main: ChildProcessWithoutNullStreams;
  ports: LocalPorts;
  pids: Record<string, number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
};

/** Starts the main command in a process group of its own and resolves once it says it is ready. */
async function startMain(): Promise<Started> {
  const { env, ports } = await localEnv(database.url, {
    REDIS_PREFIX: `keyturn-stop-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: "warn",
  });
  const main = spawn(process.execPath, ["--import", "tsx", "apps/local/src/main.ts"], {
    cwd: ROOT,
    env,
    // Its own process group, as a shell gives a foreground job: Ctrl-C signals the whole group.
    detached: true,
  });
  running = main;
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

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

describe("stopping the main command", () => {
  for (const [how, interrupt] of [
    // What a terminal does on Ctrl-C: SIGINT to main and to every app at once.
    [
      "Ctrl-C in a terminal (SIGINT to the process group)",
      (main: ChildProcessWithoutNullStreams) => process.kill(-(main.pid ?? 0), "SIGINT"),
    ],
    // What `kill -INT <pid>` does: main alone, which must stop the apps itself.
    ["SIGINT to the main process alone", (main: ChildProcessWithoutNullStreams) => main.kill("SIGINT")],
  ] as const) {
    it(`${how}: exits 0, every app process is gone and every port is free`, async () => {
      const started = await startMain();
      expect(Object.keys(started.pids).sort()).toEqual(["api", "slack", "worker"]);
      for (const pid of Object.values(started.pids)) {
        expect(isRunning(pid)).toBe(true);
      }
      const ports = Object.values(started.ports);
      for (const port of ports) {
        expect(await portIsFree(port), `port ${port} in use while running`).toBe(false);
      }

      interrupt(started.main);
      const exit = await started.exited;

      expect(exit, started.output()).toEqual({ code: 0, signal: null });
      expect(started.output()).not.toContain("did not stop cleanly");
      for (const [name, pid] of Object.entries(started.pids)) {
        expect(isRunning(pid), `${name} (pid ${pid}) still running`).toBe(false);
      }
      for (const port of ports) {
        expect(await portIsFree(port), `port ${port} still in use`).toBe(true);
      }
    }, 180_000);
  }
});
