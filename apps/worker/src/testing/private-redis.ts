import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";

export type PrivateRedis = { url: string; stop(): Promise<void> };

/**
 * A Redis server of this test file's own, for tests that must do what no shared server may see
 * done to it (FLUSHALL). No persistence, like the CI Redis.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  // The port is free when picked, not when the server binds it: another test run on the machine may
  // take it in between (and start a Redis of its own there). A server that cannot bind exits; one
  // that answers must be ours, or a FLUSHALL here would wipe someone else's. So: check, retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePort();
    } catch (error) {
      if (attempt >= 5) {
        throw error;
      }
    }
  }
}

async function startOnFreePort(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "keyturn-redis-"));
  const server = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    server.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused connections while the server starts are expected; connect() reports them.
  probe.on("error", () => undefined);
  const deadline = Date.now() + 10_000;
  try {
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (error) {
        probe.disconnect();
        if (Date.now() > deadline || server.exitCode !== null) {
          throw new Error(`redis-server on port ${port} did not answer`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const info = await probe.info("server");
    const pid = /^process_id:(\d+)/m.exec(info)?.[1];
    if (pid !== String(server.pid)) {
      throw new Error(`port ${port} answered with another Redis (pid ${pid}, ours ${server.pid})`);
    }
  } catch (error) {
    probe.disconnect();
    await stop();
    throw error;
  }
  await probe.quit();
  return { url, stop };
}
