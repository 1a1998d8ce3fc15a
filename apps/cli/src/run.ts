// Dispatch: finds the command the words name, parses its arguments, runs it, and turns every
// failure into one line on stderr and an exit code (0 ok, 1 failed, 2 bad usage; commands may
// use others, like `flows plan --exit-code`).
import { type ApiClient, createApiClient, LOGIN_HINT } from "./api-client.js";
import { CliError } from "./cli-error.js";
import { type Command, type CommandContext, commandHelp, commandName, parseCommandArgs } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { configDirectory, readConfigFile } from "./config-file.js";
import type { Output } from "./output.js";

/** Everything the CLI takes from its environment, read once in main.ts. */
export type CliEnvironment = {
  apiUrl?: string;
  token?: string;
  xdgConfigHome?: string;
  home: string;
  /** IAM Identity Center defaults for `keyturn credentials` (KEYTURN_SSO_START_URL, ...). */
  sso?: { startUrl?: string; region?: string; session?: string };
  version: string;
  now(): Date;
};

function topLevelHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => commandName(c).length));
  return [
    "keyturn: just-in-time AWS access from the terminal",
    "",
    "Usage: keyturn <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${commandName(c).padEnd(width)}  ${c.summary}`),
    "",
    "Settings: KEYTURN_API_URL and KEYTURN_TOKEN, else the config file ($XDG_CONFIG_HOME/keyturn/config.json",
    "or ~/.config/keyturn/config.json; see 'keyturn config set --help').",
    "Every command takes --help and --json.",
    "",
    "Example:",
    "  $ keyturn flows list",
    "",
  ].join("\n");
}

/** The command named by the longest run of leading words, and the arguments after them. */
function findCommand(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command; args: string[] } | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (best === undefined || command.path.length > best.path.length)) {
      best = command;
    }
  }
  return best === undefined ? undefined : { command: best, args: argv.slice(best.path.length) };
}

function createContext(env: CliEnvironment, output: Output, json: boolean): CommandContext {
  const directory = configDirectory({
    home: env.home,
    ...(env.xdgConfigHome === undefined ? {} : { xdgConfigHome: env.xdgConfigHome }),
  });
  const userAgent = `keyturn-cli/${env.version}`;
  const apiUrl = async (): Promise<string> => {
    const url = env.apiUrl ?? (await readConfigFile(directory)).apiUrl;
    if (url === undefined || url === "") {
      throw new CliError(
        "no Keyturn API URL: set KEYTURN_API_URL or run 'keyturn config set --api-url <url>'",
      );
    }
    return url;
  };
  return {
    json,
    output,
    configDirectory: directory,
    home: env.home,
    ssoDefaults: env.sso ?? {},
    now: env.now,
    anonymousApi: async () => createApiClient({ baseUrl: await apiUrl(), userAgent }),
    api: async (): Promise<ApiClient> => {
      const file = await readConfigFile(directory);
      const baseUrl = await apiUrl();
      // The environment's token wins; an expiry recorded in the file belongs to the file's token.
      const token = env.token ?? file.token;
      if (token === undefined || token === "") {
        throw new CliError(`not signed in: ${LOGIN_HINT.replace(" again", "")}, or set KEYTURN_TOKEN`);
      }
      if (env.token === undefined && file.tokenExpiresAt !== undefined) {
        const expiresAt = new Date(file.tokenExpiresAt);
        if (expiresAt.getTime() <= env.now().getTime()) {
          throw new CliError(`your Keyturn token expired at ${expiresAt.toISOString()}; ${LOGIN_HINT}`);
        }
      }
      return createApiClient({ baseUrl, token, userAgent });
    },
  };
}

export async function runCli(
  argv: readonly string[],
  env: CliEnvironment,
  output: Output,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    output.out(topLevelHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === "--version") {
    output.out(`${env.version}\n`);
    return 0;
  }
  const found = findCommand(commands, argv);
  if (found === undefined) {
    // A group word alone ("keyturn flows"): list what it holds.
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0) {
      output.err(
        `keyturn ${argv[0]}: choose one of: ${group.map((c) => commandName(c)).join(", ")} (see 'keyturn --help')\n`,
      );
      return 2;
    }
    output.err(`keyturn: unknown command '${argv[0]}' (see 'keyturn --help')\n`);
    return 2;
  }
  const { command, args } = found;
  try {
    const input = parseCommandArgs(command, args);
    if (input.values.help === true) {
      output.out(commandHelp(command));
      return 0;
    }
    return await command.run(createContext(env, output, input.values.json === true), input);
  } catch (error) {
    if (error instanceof CliError) {
      output.err(`keyturn: ${error.message}\n`);
      return error.exitCode;
    }
    // A bug, not a user error: say so, in one line plus where it happened.
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    output.err(`keyturn: unexpected error (a bug; please report it): ${stack}\n`);
    return 1;
  }
}
