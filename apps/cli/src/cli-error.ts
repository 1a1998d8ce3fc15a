/**
 * The one way a command fails: a message for stderr (one line, already in the user's terms) and
 * the exit code. Thrown by commands and the API client, caught once in run.ts.
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** Bad arguments: exit code 2, as getopt-style tools use, with a pointer to --help. */
export function usageError(message: string, command: string): CliError {
  return new CliError(`${message} (see 'keyturn ${command} --help')`, 2);
}
