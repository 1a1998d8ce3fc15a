import { spawn } from "node:child_process";
import { createPrismaClient } from "@keyturn/db";
import { useTestDatabase } from "@keyturn/testkit/database";
import { describe, expect, it } from "vitest";
import { localEnv, ROOT } from "./test-support.js";

const database = useTestDatabase();

async function runDemo(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/local/src/main.ts", "--demo"], {
    cwd: ROOT,
    env,
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, output };
}

describe("the main command's --demo", () => {
  it("passes every step three times in a row on one database, re-pinning alice each time her Identity Center user is new", async () => {
    // Each run starts a new AWS emulator, whose Identity Center gives alice a new user id: what an
    // identity provider's re-provisioning (SCIM delete + create) does to a real one.
    const { env } = await localEnv(database.url, { KEYTURN_DEMO_SECONDS: "12" });
    for (const run of [1, 2, 3]) {
      const { code, output } = await runDemo(env);
      expect(output, `run ${run}:\n${output}`).toContain("demo passed: every step held");
      expect(code, `run ${run}`).toBe(0);
      for (const step of [
        "Bob clicks Approve",
        "An administrator",
        "access expires",
        "still-valid session",
        "keyturn login",
        "credential_process = keyturn credentials",
        "the same profile is refused",
      ]) {
        expect(output).toContain(step);
      }
    }
    const db = createPrismaClient({ databaseUrl: database.url });
    try {
      const requests = await db.accessRequest.findMany({ orderBy: { createdAt: "asc" } });
      // Per run: Alice's request in Slack, then hers from the terminal (keyturn request --wait).
      expect(requests.map((r) => [r.source, r.status])).toEqual(
        Array.from({ length: 3 }, () => [
          ["slack", "expired"],
          ["api", "expired"],
        ]).flat(),
      );
      const repins = await db.auditEvent.findMany({ where: { action: "identity.repinned" } });
      expect(repins.map((e) => (e.data as { email?: string }).email)).toEqual([
        "alice@example.com",
        "alice@example.com",
      ]);
      const alice = await db.identity.findUniqueOrThrow({ where: { email: "alice@example.com" } });
      expect(repins.at(-1)?.data).toMatchObject({ identityStoreUserId: alice.identityStoreUserId });
    } finally {
      await db.$disconnect();
    }
  }, 600_000);
});
