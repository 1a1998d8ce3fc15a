import { spawn } from "node:child_process";
import { useTestDatabase } from "@keyturn/testkit/database";
import { describe, expect, it } from "vitest";
import { localEnv, ROOT } from "./test-support.js";

const database = useTestDatabase();

describe("the main command's --demo", () => {
  it("plays the whole story through api, slack and worker processes and passes every step", async () => {
    const { env } = await localEnv(database.url);
    const child = spawn(process.execPath, ["--import", "tsx", "apps/local/src/main.ts", "--demo"], {
      cwd: ROOT,
      env,
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(output, output).toContain("demo passed: every step held");
    expect(code).toBe(0);
    for (const step of ["Bob clicks Approve", "An administrator", "access expires", "still-valid session"]) {
      expect(output).toContain(step);
    }
  }, 180_000);
});
