import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {
  CallRecord,
  EmulatedAssignment,
  EmulatorSnapshot,
  SeedData,
  SeedResult,
} from "@keyturn/testkit";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const emulatorMain = fileURLToPath(
  new URL("../../../../packages/testkit/src/aws-emulator/main.ts", import.meta.url),
);

export type EmulatorProcess = {
  endpoint: string;
  region: string;
  seed(data: SeedData): Promise<SeedResult>;
  callLog(): Promise<CallRecord[]>;
  clearCallLog(): Promise<void>;
  assignments(): Promise<EmulatedAssignment[]>;
  close(): Promise<void>;
};

/**
 * The AWS emulator in a process of its own (its standalone main.ts), driven through its admin
 * surface. For tests that time calls against the quota: in the test's own process, a busy event
 * loop holds requests back and then admits them together, and the emulator would count as a burst
 * what the workers sent evenly.
 */
export async function startEmulatorProcess(options: { quotas: boolean }): Promise<EmulatorProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", emulatorMain, "--port", "0", "--empty", ...(options.quotas ? ["--quotas"] : [])],
    { cwd: repoRoot, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  const listening = await new Promise<{ endpoint: string; region: string }>((resolve, reject) => {
    // A bound that ends a hung start, generous for a machine whose cores are busy elsewhere.
    const timer = setTimeout(() => reject(new Error(`emulator did not start:\n${output}`)), 120_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /AWS emulator listening on (http:\/\/\S+) \(region (\S+)\)/.exec(output);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        clearTimeout(timer);
        resolve({ endpoint: match[1], region: match[2] });
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    void exited.then(() => reject(new Error(`emulator exited:\n${output}`)));
  });
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${listening.endpoint}/_emulator/${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!response.ok) {
      throw new Error(`emulator ${method} ${path}: ${response.status} ${await response.text()}`);
    }
    return (await response.json()) as T;
  };
  return {
    ...listening,
    seed: (data) => admin<SeedResult>("POST", "seed", data),
    callLog: () => admin<CallRecord[]>("GET", "calls"),
    clearCallLog: async () => {
      await admin<unknown>("DELETE", "calls");
    },
    assignments: async () => (await admin<EmulatorSnapshot>("GET", "state")).assignments,
    async close() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
