import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { useTestDatabase } from "@keyturn/testkit/database";
import { describe, expect, it } from "vitest";

const database = useTestDatabase();
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

describe("the main command's --demo", () => {
  it("plays the whole story through api, slack and worker processes and passes every step", async () => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: database.url,
      API_PORT: String(await freePort()),
      SLACK_PORT: String(await freePort()),
      WORKER_HEALTH_PORT: String(await freePort()),
    };
    for (const key of ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "SLACK_BOT_TOKEN"]) {
      delete env[key];
    }
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
