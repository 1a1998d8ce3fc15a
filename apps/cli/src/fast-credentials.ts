// The path every new AWS process takes through `credential_process`: `keyturn credentials <flow>`
// with fresh credentials in the private cache. Decided here, before the rest of the CLI (the API
// client, the AWS SDK, the commands) is even evaluated, so it costs little more than starting Node.
import { readCachedCredentials } from "./aws/credential-cache.js";
import { configDirectory } from "./config-file.js";

/**
 * True when it printed cached credentials for `argv` (and the process is done); false when the
 * full CLI must run: another command, --help, or nothing fresh in the cache.
 */
export async function answerFromCache(
  argv: readonly string[],
  env: { home: string; xdgConfigHome?: string; now(): Date; write(text: string): void },
): Promise<boolean> {
  const [command, flow, ...rest] = argv;
  if (command !== "credentials" || flow === undefined || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(flow)) {
    return false;
  }
  // Only options that do not change the answer; anything else (--help, a typo) takes the full path.
  for (let i = 0; i < rest.length; i++) {
    const option = rest[i] ?? "";
    if (["--sso-start-url", "--sso-region", "--sso-session", "--reason", "--duration"].includes(option)) {
      i++;
    } else if (option !== "--request-if-needed" && option !== "--json") {
      return false;
    }
  }
  const directory = configDirectory({
    home: env.home,
    ...(env.xdgConfigHome === undefined ? {} : { xdgConfigHome: env.xdgConfigHome }),
  });
  const cached = await readCachedCredentials(directory, flow, env.now());
  if (cached === null) {
    return false;
  }
  env.write(`${JSON.stringify(cached, null, 2)}\n`);
  return true;
}
