// The CLI's settings file: <config dir>/keyturn/config.json, readable by its owner only (it holds an
// API token). The environment (KEYTURN_API_URL, KEYTURN_TOKEN) wins over the file.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "./cli-error.js";

export type ConfigFile = {
  apiUrl?: string;
  token?: string;
  /** The stored token's id, when `keyturn login` stored it: `keyturn logout` revokes it by id. */
  tokenId?: string;
  /** Whose the stored token is (`keyturn login`'s person): `keyturn credentials` uses their grants only. */
  tokenOwner?: string;
  /** When the stored token expires (ISO 8601), if known: lets the CLI say "run keyturn login" early. */
  tokenExpiresAt?: string;
};

/** $XDG_CONFIG_HOME/keyturn, else ~/.config/keyturn (the XDG base directory default). */
export function configDirectory(env: { xdgConfigHome?: string; home: string }): string {
  const base =
    env.xdgConfigHome !== undefined && env.xdgConfigHome !== ""
      ? env.xdgConfigHome
      : join(env.home, ".config");
  return join(base, "keyturn");
}

export function configFilePath(directory: string): string {
  return join(directory, "config.json");
}

// Checked by hand rather than with zod: this runs on every command's start-up (credential_process
// included), which zod's import would slow down.
function isConfigFile(value: unknown): value is ConfigFile {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  return Object.entries(value).every(([key, field]) =>
    ["apiUrl", "token", "tokenId", "tokenOwner", "tokenExpiresAt"].includes(key)
      ? typeof field === "string"
      : true,
  );
}

export async function readConfigFile(directory: string): Promise<ConfigFile> {
  const path = configFilePath(directory);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return {};
    }
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON (${(error as Error).message}); fix or delete it`);
  }
  if (!isConfigFile(parsed)) {
    throw new CliError(`${path} must be a JSON object whose apiUrl, token and tokenExpiresAt are strings`);
  }
  return parsed;
}

/**
 * Merges `changes` into the file (a key set to undefined is removed). Written to a temporary file
 * created 0600 and renamed over the old one, so the token is never readable by others, not even
 * for a moment, and a crash never leaves half a file.
 */
export async function updateConfigFile(
  directory: string,
  changes: { [K in keyof ConfigFile]?: ConfigFile[K] | undefined },
): Promise<ConfigFile> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  // mkdir's mode does not apply to a directory that already existed.
  await chmod(directory, 0o700);
  const next: Record<string, unknown> = { ...(await readConfigFile(directory)) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) {
      delete next[key];
    } else {
      next[key] = value;
    }
  }
  const path = configFilePath(directory);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return next as ConfigFile;
}
