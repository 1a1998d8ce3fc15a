import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createAssignmentClaims } from "@keyturn/db";
import { reconcileAssignment } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import { useReconcileWorld } from "./test-support.js";
import { eventually } from "./worker-harness.js";

const world = useReconcileWorld();
const holderScript = fileURLToPath(new URL("./testing/claim-holder.ts", import.meta.url));
const workerDir = fileURLToPath(new URL("../", import.meta.url));

/** Another process holding one assignment's claim, as a worker does while it reconciles. */
async function startHolder(databaseUrl: string, assignmentId: string) {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, databaseUrl, assignmentId], {
    cwd: workerDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number>((resolve) => child.once("exit", () => resolve(Date.now())));
  const answer = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => resolve(chunk.toString("utf8").trim()));
    void exited.then(() => reject(new Error(`the holder exited:\n${output}`)));
  });
  return { child, answer, exited };
}

describe("the per-assignment claim", () => {
  it("serializes two runs of the same worker (its approval job and a sweep) like runs of two workers", async () => {
    const { assignmentId } = await world.approve("erin@example.com");
    // One deps object = one worker process: both runs share its claims session.
    const [a, b] = await Promise.all([
      reconcileAssignment(world.deps, { assignmentId }),
      reconcileAssignment(world.deps, { assignmentId }),
    ]);
    expect([a, b].map((r) => r.ok && r.value.outcome).sort()).toEqual(["busy", "converged"]);
    const identity = await world.db.identity.findUniqueOrThrow({ where: { email: "erin@example.com" } });
    const creates = world.emulator
      .callLog()
      .filter(
        (c) =>
          c.operation === "CreateAccountAssignment" && c.input.PrincipalId === identity.identityStoreUserId,
      );
    expect(creates).toHaveLength(1);
    // And the claim is free again once the run that held it is over.
    const again = await reconcileAssignment(world.otherWorker(), { assignmentId });
    expect(again.ok && again.value.outcome).toBe("converged");
  });

  it("ends with its holder: a SIGKILLed process's claim is free at once, not after a TTL", async () => {
    const { assignmentId } = await world.approve("dave@example.com");
    const holder = await startHolder(world.databaseUrl, assignmentId);
    expect(holder.answer).toBe("claimed");
    const other = world.otherWorker();
    expect((await reconcileAssignment(other, { assignmentId })).ok).toBe(true);
    expect(await other.claims.acquire(assignmentId)).toBeNull();

    holder.child.kill("SIGKILL");
    const killedAt = await holder.exited;
    // PostgreSQL ends the session when its socket closes; its locks go with it.
    const claim = await eventually(
      async () => (await other.claims.acquire(assignmentId)) ?? undefined,
      30_000,
    );
    const freedAfterMs = Date.now() - killedAt;
    await claim.release();
    expect(freedAfterMs).toBeLessThan(5_000);
    const report = await reconcileAssignment(other, { assignmentId });
    expect(report.ok && report.value.outcome).toBe("converged");
  }, 60_000);

  it("is no longer held once its connection broke, and the next claim takes a new session", async () => {
    const lost: unknown[] = [];
    const claims = createAssignmentClaims({
      databaseUrl: world.databaseUrl,
      onConnectionLost: (error) => lost.push(error),
    });
    try {
      const { assignmentId } = await world.approve("carol@example.com");
      const claim = await claims.acquire(assignmentId);
      expect(claim?.held()).toBe(true);
      // What a PostgreSQL restart or a failover does to the session.
      await world.db.$queryRaw`SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity
        WHERE application_name = 'keyturn-claims' AND datname = current_database()`;
      await eventually(async () => claim?.held() === false, 10_000);
      expect(lost).toHaveLength(1);
      // Its run stops before its next change to AWS and lets go; only then may this process
      // claim the assignment again, on a new session.
      expect(await claims.acquire(assignmentId)).toBeNull();
      await claim?.release();
      const next = await claims.acquire(assignmentId);
      expect(next?.held()).toBe(true);
      await next?.release();
    } finally {
      await claims.close();
    }
  });
});
