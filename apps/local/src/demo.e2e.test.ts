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
    // 20 s of access: room, on a machine busy with other test files, for the steps that must run
    // while it lasts (the DM, the portal sign-in, the writes).
    const { env } = await localEnv(database.url, { KEYTURN_DEMO_SECONDS: "20" });
    for (const run of [1, 2, 3]) {
      const { code, output } = await runDemo(env);
      expect(output, `run ${run}:\n${output}`).toContain("demo passed: every step held");
      expect(code, `run ${run}`).toBe(0);
      for (const step of [
        "Bob clicks Approve",
        "An administrator",
        "access expires",
        "still-valid session",
        "Keyturn approves her without Bob",
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
      // Per run: Alice's request in Slack, hers approved by the on-call check (no review, then
      // ended by the demo), and hers from the terminal (keyturn request --wait).
      expect(requests.map((r) => [r.flowName, r.source, r.status, r.onCallOutcome])).toEqual(
        Array.from({ length: 3 }, () => [
          ["s3-demo", "slack", "expired", null],
          ["s3-oncall", "slack", "revoked", "approved"],
          ["s3-demo", "api", "expired", null],
        ]).flat(),
      );
      const onCall = requests.filter((r) => r.flowName === "s3-oncall").map((r) => r.id);
      expect(await db.review.count({ where: { requestId: { in: onCall } } })).toBe(0);
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
