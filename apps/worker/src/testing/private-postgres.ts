import { execFile } from "node:child_process";
import { chown, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

const run = promisify(execFile);
const migrateCli = fileURLToPath(new URL("../../../../packages/db/src/migrate-cli.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

export type PrivatePostgres = {
  /** A migrated database `keyturn` on the private server. */
  url: string;
  /** `pg_ctl restart -m fast`: every backend is terminated, new connections are refused until it is back. */
  restart(): Promise<void>;
  stop(): Promise<void>;
};

/** The server binaries of the newest installed PostgreSQL (Debian keeps them off the PATH). */
async function binDir(): Promise<string> {
  const versions = (await readdir("/usr/lib/postgresql")).map(Number).filter(Number.isFinite);
  const newest = Math.max(...versions);
  if (!Number.isFinite(newest)) {
    throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql");
  }
  return `/usr/lib/postgresql/${newest}/bin`;
}

/**
 * A PostgreSQL server of this test file's own, for tests that must restart it: the shared server
 * serves every other test file. initdb refuses to run as root, so as root the server runs as the
 * `postgres` user, like the system one. fsync is off: nothing here needs to survive a crash of
 * the machine.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await binDir();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "keyturn-pg-"));
  const asRoot = process.getuid?.() === 0;
  const pg = (tool: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]) : run(join(bin, tool), args);
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, "data");
  await pg("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const ctl = (...args: string[]) => pg("pg_ctl", ["-D", data, "-w", "-t", "60", ...args]);
  await ctl("-o", options, "-l", join(dir, "log"), "start");
  const server = `postgresql://postgres@127.0.0.1:${port}`;
  await pg("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "keyturn"]);
  const url = `${server}/keyturn`;
  await run(process.execPath, ["--import", "tsx", migrateCli], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: url },
  });
  return {
    url,
    async restart() {
      await ctl("-m", "fast", "-l", join(dir, "log"), "restart");
    },
    async stop() {
      await ctl("-m", "immediate", "stop").catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
