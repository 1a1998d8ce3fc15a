import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { EmulatorSnapshot } from "./types.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Starts main.ts through tsx and resolves with its endpoint once it says it is listening. */
function startStandalone(args: string[]): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const endpoint = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (endpoint !== undefined) {
        resolve({ child, endpoint });
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`main.ts exited with ${code}: ${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  return exited;
}

describe("standalone main.ts", () => {
  it("serves the demo Identity Center and stops on SIGTERM", { timeout: 30_000 }, async () => {
    const { child, endpoint } = await startStandalone(["--region", "eu-central-1"]);
    try {
      const state = (await (await fetch(`${endpoint}/_emulator/state`)).json()) as EmulatorSnapshot;
      expect(state.region).toBe("eu-central-1");
      expect(state.instance?.identityStoreId).toBe("d-0123456789");
      expect(state.accounts).toEqual(["111122223333"]);
      expect(state.users.map((user) => user.userName)).toEqual(["alice", "bob", "carol"]);
      expect(state.permissionSets.map((set) => [set.name, set.sessionDuration])).toEqual([
        ["S3Access", "PT1H"],
        ["AdministratorAccess", "PT1H"],
      ]);
      expect(state.buckets.map((bucket) => bucket.name)).toEqual(["keyturn-demo-data"]);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it("starts empty with --empty", { timeout: 30_000 }, async () => {
    const { child, endpoint } = await startStandalone(["--empty"]);
    try {
      const state = (await (await fetch(`${endpoint}/_emulator/state`)).json()) as EmulatorSnapshot;
      expect(state.instance).toBeNull();
    } finally {
      await stop(child);
    }
  });
});
