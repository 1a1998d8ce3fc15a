// The private cache `keyturn credentials` answers from: <config dir>/credentials/<flow>.json,
// 0600 in a 0700 directory. credential_process runs for every new AWS process, so a cached answer
// must cost no network: it is used until shortly before its Expiration (which is never later than
// the lease's end), then fetched again.
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The credential_process document (AWS CLI / SDK "Version 1"). */
export type ProcessCredentials = {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
};

/** Renewed this long before Expiration, so no AWS call starts with credentials about to lapse. */
export const REFRESH_BEFORE_MS = 5 * 60_000;

const directoryOf = (configDirectory: string) => join(configDirectory, "credentials");
const fileOf = (configDirectory: string, flow: string) => join(directoryOf(configDirectory), `${flow}.json`);

function isProcessCredentials(value: unknown): value is ProcessCredentials {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return (
    v.Version === 1 &&
    typeof v.AccessKeyId === "string" &&
    typeof v.SecretAccessKey === "string" &&
    typeof v.SessionToken === "string" &&
    typeof v.Expiration === "string" &&
    !Number.isNaN(Date.parse(v.Expiration))
  );
}

/** The cached credentials of `flow` while they have more than REFRESH_BEFORE_MS left; else null. */
export async function readCachedCredentials(
  configDirectory: string,
  flow: string,
  now: Date,
): Promise<ProcessCredentials | null> {
  let text: string;
  try {
    text = await readFile(fileOf(configDirectory, flow), "utf8");
  } catch {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isProcessCredentials(parsed)) {
    return null;
  }
  return Date.parse(parsed.Expiration) - now.getTime() > REFRESH_BEFORE_MS ? parsed : null;
}

export async function writeCachedCredentials(
  configDirectory: string,
  flow: string,
  credentials: ProcessCredentials,
): Promise<void> {
  const directory = directoryOf(configDirectory);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  const path = fileOf(configDirectory, flow);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(credentials), { mode: 0o600 });
  await rename(temporary, path);
}

/** Forgets one flow's credentials, or all of them (logout, a new login, a revoke). */
export async function forgetCachedCredentials(configDirectory: string, flow?: string): Promise<void> {
  if (flow !== undefined) {
    await rm(fileOf(configDirectory, flow), { force: true });
    return;
  }
  let names: string[];
  try {
    names = await readdir(directoryOf(configDirectory));
  } catch {
    return;
  }
  await Promise.all(names.map((name) => rm(join(directoryOf(configDirectory), name), { force: true })));
}
