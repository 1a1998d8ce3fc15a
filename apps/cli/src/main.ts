#!/usr/bin/env node
// The CLI's composition root: the only place that reads the environment and owns the process.
import { homedir } from "node:os";
import { answerFromCache } from "./fast-credentials.js";

// Replaced by the bundler (scripts/build.mjs) with the package's version.
declare const KEYTURN_CLI_VERSION: string;

const argv = process.argv.slice(2);
const home = process.env.HOME ?? homedir();
const write = (text: string) => process.stdout.write(text);
const answered = await answerFromCache(argv, {
  home,
  ...(process.env.XDG_CONFIG_HOME === undefined ? {} : { xdgConfigHome: process.env.XDG_CONFIG_HOME }),
  now: () => new Date(),
  write,
});
// Imported only when needed: the bundler keeps it (and everything it imports) unevaluated until here.
const exitCode = answered
  ? 0
  : await (await import("./run.js")).runCli(
      argv,
      {
        ...(process.env.KEYTURN_API_URL === undefined ? {} : { apiUrl: process.env.KEYTURN_API_URL }),
        ...(process.env.KEYTURN_TOKEN === undefined ? {} : { token: process.env.KEYTURN_TOKEN }),
        ...(process.env.XDG_CONFIG_HOME === undefined ? {} : { xdgConfigHome: process.env.XDG_CONFIG_HOME }),
        home,
        sso: {
          ...(process.env.KEYTURN_SSO_START_URL === undefined
            ? {}
            : { startUrl: process.env.KEYTURN_SSO_START_URL }),
          ...(process.env.KEYTURN_SSO_REGION === undefined ? {} : { region: process.env.KEYTURN_SSO_REGION }),
          ...(process.env.KEYTURN_SSO_SESSION === undefined
            ? {}
            : { session: process.env.KEYTURN_SSO_SESSION }),
        },
        version: typeof KEYTURN_CLI_VERSION === "string" ? KEYTURN_CLI_VERSION : "dev",
        now: () => new Date(),
      },
      {
        out: write,
        err: (text) => process.stderr.write(text),
      },
    );
// Not process.exit(): that could cut off output still buffered for a pipe.
process.exitCode = exitCode;
