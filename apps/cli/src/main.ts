#!/usr/bin/env node
// The CLI's composition root: the only place that reads the environment and owns the process.
import { homedir } from "node:os";
import { runCli } from "./run.js";

// Replaced by the bundler (scripts/build.mjs) with the package's version.
declare const KEYTURN_CLI_VERSION: string;

const exitCode = await runCli(
  process.argv.slice(2),
  {
    ...(process.env.KEYTURN_API_URL === undefined ? {} : { apiUrl: process.env.KEYTURN_API_URL }),
    ...(process.env.KEYTURN_TOKEN === undefined ? {} : { token: process.env.KEYTURN_TOKEN }),
    ...(process.env.XDG_CONFIG_HOME === undefined ? {} : { xdgConfigHome: process.env.XDG_CONFIG_HOME }),
    home: process.env.HOME ?? homedir(),
    sso: {
      ...(process.env.KEYTURN_SSO_START_URL === undefined
        ? {}
        : { startUrl: process.env.KEYTURN_SSO_START_URL }),
      ...(process.env.KEYTURN_SSO_REGION === undefined ? {} : { region: process.env.KEYTURN_SSO_REGION }),
      ...(process.env.KEYTURN_SSO_SESSION === undefined ? {} : { session: process.env.KEYTURN_SSO_SESSION }),
    },
    version: typeof KEYTURN_CLI_VERSION === "string" ? KEYTURN_CLI_VERSION : "dev",
    now: () => new Date(),
  },
  {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
);
// Not process.exit(): that could cut off output still buffered for a pipe.
process.exitCode = exitCode;
