// What a command is, how its arguments are parsed (node:util parseArgs) and how its help reads.
import { parseArgs } from "node:util";
import type { ApiClient } from "./api-client.js";
import { usageError } from "./cli-error.js";
import { type Output, printJson } from "./output.js";

type OptionSpec = {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in --help, e.g. "--since <time>". */
  label?: string;
  description: string;
};

export type CommandInput = {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
};

export type CommandContext = {
  /** --json: one JSON document on stdout instead of a table. */
  json: boolean;
  output: Output;
  /** The API client, with the configured URL and token; fails with a clear message when either is missing. */
  api(): Promise<ApiClient>;
  /** The API client without a token (for signing in). */
  anonymousApi(): Promise<ApiClient>;
  configDirectory: string;
  /** The user's home directory (the AWS CLI's SSO token cache is under it). */
  home: string;
  /** IAM Identity Center settings from the environment; command options win over them. */
  ssoDefaults: { startUrl?: string; region?: string; session?: string };
  now(): Date;
};

export type Command = {
  /** The words that name it: ["flows", "plan"]. */
  path: readonly string[];
  summary: string;
  /** The arguments after the path, as in the usage line: "<dir> [--exit-code]". */
  usage: string;
  /** Longer text for --help (optional). */
  description?: string;
  /** At least one, shown in --help. */
  examples: readonly [string, ...string[]];
  options?: Readonly<Record<string, OptionSpec>>;
  /** How many positional arguments it takes. */
  positionals?: { min: number; max: number };
  run(context: CommandContext, input: CommandInput): Promise<number>;
};

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean", description: "print JSON for scripts instead of a table" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

export function commandName(command: Command): string {
  return command.path.join(" ");
}

export function parseCommandArgs(command: Command, args: readonly string[]): CommandInput {
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          {
            type: spec.type,
            ...(spec.short === undefined ? {} : { short: spec.short }),
            ...(spec.multiple === undefined ? {} : { multiple: spec.multiple }),
          },
        ]),
      ),
    });
  } catch (error) {
    throw usageError((error as Error).message.split("\n")[0] ?? "bad arguments", commandName(command));
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (parsed.values.help !== true && (parsed.positionals.length < min || parsed.positionals.length > max)) {
    throw usageError(
      parsed.positionals.length < min
        ? `missing argument: usage: keyturn ${commandName(command)} ${command.usage}`
        : `unexpected argument '${parsed.positionals[max]}'`,
      commandName(command),
    );
  }
  return { values: parsed.values as CommandInput["values"], positionals: parsed.positionals };
}

export function commandHelp(command: Command): string {
  const options = { ...command.options, ...GLOBAL_OPTIONS };
  const labels = Object.entries(options).map(([name, spec]) => {
    const flag = spec.label ?? (spec.type === "string" ? `--${name} <value>` : `--${name}`);
    return [spec.short === undefined ? `    ${flag}` : `-${spec.short}, ${flag}`, spec.description] as const;
  });
  const width = Math.max(...labels.map(([label]) => label.length));
  return [
    `keyturn ${commandName(command)}: ${command.summary}`,
    "",
    `Usage: keyturn ${commandName(command)} ${command.usage}`.trimEnd(),
    ...(command.description === undefined ? [] : ["", command.description]),
    "",
    "Options:",
    ...labels.map(([label, description]) => `  ${label.padEnd(width)}  ${description}`),
    "",
    command.examples.length === 1 ? "Example:" : "Examples:",
    ...command.examples.map((example) => `  $ ${example}`),
    "",
  ].join("\n");
}

export function stringOption(input: CommandInput, name: string): string | undefined {
  const value = input.values[name];
  return typeof value === "string" ? value : undefined;
}

export function flag(input: CommandInput, name: string): boolean {
  return input.values[name] === true;
}

/** Prints a result as JSON or as human text, as the caller asked. */
export function emit(context: CommandContext, json: unknown, human: () => string): void {
  if (context.json) {
    printJson(context.output, json);
  } else {
    context.output.out(human());
  }
}
