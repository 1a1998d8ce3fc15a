import { CliError, usageError } from "../cli-error.js";
import { type Command, emit, flag, stringOption } from "../command.js";
import { configFilePath, readConfigFile, updateConfigFile } from "../config-file.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8").trim();
}

export const configSet: Command = {
  path: ["config", "set"],
  summary: "store the API URL and/or an API token in the config file (0600)",
  usage: "[--api-url <url>] [--token-stdin] [--forget-token]",
  description:
    "The token is read from stdin, never from an argument (arguments end up in shell history and ps).\n" +
    "KEYTURN_API_URL and KEYTURN_TOKEN, when set, win over the file.",
  examples: [
    "keyturn config set --api-url https://keyturn.example.com",
    'printf %s "$ADMIN_TOKEN" | keyturn config set --token-stdin',
  ],
  options: {
    "api-url": { type: "string", label: "--api-url <url>", description: "the Keyturn API's base URL" },
    "token-stdin": { type: "boolean", description: "read an API token from stdin and store it" },
    "forget-token": { type: "boolean", description: "remove the stored token" },
  },
  async run(context, input) {
    const apiUrl = stringOption(input, "api-url");
    if (apiUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(apiUrl)) {
      throw usageError(`--api-url must be an http(s) URL, got '${apiUrl}'`, "config set");
    }
    if (flag(input, "token-stdin") && flag(input, "forget-token")) {
      throw usageError("--token-stdin and --forget-token exclude each other", "config set");
    }
    let token: string | undefined;
    if (flag(input, "token-stdin")) {
      token = await readStdin();
      if (!/^\S{16,256}$/.test(token)) {
        throw new CliError("stdin does not hold an API token (16-256 characters, no spaces)");
      }
    }
    if (apiUrl === undefined && token === undefined && !flag(input, "forget-token")) {
      throw usageError("nothing to set: give --api-url, --token-stdin or --forget-token", "config set");
    }
    const next = await updateConfigFile(context.configDirectory, {
      ...(apiUrl === undefined ? {} : { apiUrl }),
      ...(token === undefined
        ? {}
        : { token, tokenId: undefined, tokenOwner: undefined, tokenExpiresAt: undefined }),
      ...(flag(input, "forget-token")
        ? { token: undefined, tokenId: undefined, tokenOwner: undefined, tokenExpiresAt: undefined }
        : {}),
    });
    const path = configFilePath(context.configDirectory);
    emit(
      context,
      { path, apiUrl: next.apiUrl ?? null, token: next.token === undefined ? null : "stored" },
      () => `wrote ${path}\n`,
    );
    return 0;
  },
};

export const configShow: Command = {
  path: ["config", "show"],
  summary: "show the config file's location and contents (the token masked)",
  usage: "[--json]",
  examples: ["keyturn config show"],
  async run(context) {
    const file = await readConfigFile(context.configDirectory);
    const path = configFilePath(context.configDirectory);
    const masked = file.token === undefined ? null : `${file.token.slice(0, 12)}…`;
    const view = {
      path,
      apiUrl: file.apiUrl ?? null,
      token: masked,
      tokenExpiresAt: file.tokenExpiresAt ?? null,
    };
    emit(
      context,
      view,
      () =>
        `config file: ${path}\napi url:     ${view.apiUrl ?? "-"}\ntoken:       ${masked ?? "-"}\n` +
        (view.tokenExpiresAt === null ? "" : `expires:     ${view.tokenExpiresAt}\n`),
    );
    return 0;
  },
};
