import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterEach, describe, expect, it } from "vitest";
import { killMains, localEnv, portIsFree, startMain } from "./test-support.js";

// The main command (as scripts/start.sh runs it) started, then stopped the way a person stops it:
// it must exit 0, leave no app process behind and free every port it listened on.

const database = useTestDatabase();
afterEach(killMains);

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
      const local = await localEnv(database.url, {
        REDIS_PREFIX: `keyturn-stop-${randomUUID().slice(0, 8)}`,
        LOG_LEVEL: "warn",
      });
      const started = await startMain(local.env, local.ports);
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
