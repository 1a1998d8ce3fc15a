// Vitest global setup: bundles the CLI once per run, so every test runs the file users run.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BUILD_SCRIPT } from "./paths.js";

export async function setup(): Promise<void> {
  await promisify(execFile)(process.execPath, [BUILD_SCRIPT]);
}
