import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { call } from "../api-client.js";
import { forgetCachedCredentials } from "../aws/credential-cache.js";
import { CliError, usageError } from "../cli-error.js";
import { type Command, emit, stringOption } from "../command.js";
import { readConfigFile, updateConfigFile } from "../config-file.js";

// `keyturn login`: no password and no admin token. The API asks the person in Slack (a DM with the
// code printed here, Approve / Reject); this polls with the sign-in's secret handle and stores the
// personal token it receives (0600). `keyturn logout` revokes that token and forgets it.

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,20}$/;

export const login: Command = {
  path: ["login"],
  summary: "sign in through Slack: approve the DM Keyturn sends you, get a personal 12-hour token",
  usage: "--email <you@example.com> | --slack-user <U0123ABCD> [--api <url>]",
  description:
    'Keyturn DMs you in Slack: "Sign in to the Keyturn CLI on <this host>? code WXYZ-1234". Approve it\n' +
    "if the code matches the one printed here. The token acts as you on your own requests only\n" +
    "(it never approves anything) and is stored in the config file, readable by you only.",
  examples: [
    "keyturn login --email alice@example.com --api https://keyturn.example.com",
    "keyturn login --slack-user U0ALICE",
  ],
  options: {
    email: { type: "string", label: "--email <email>", description: "who you are (your email in Slack)" },
    "slack-user": { type: "string", label: "--slack-user <id>", description: "or your Slack user id" },
    api: { type: "string", label: "--api <url>", description: "the Keyturn API's base URL (stored)" },
  },
  async run(context, input) {
    const email = stringOption(input, "email");
    const slackUserId = stringOption(input, "slack-user");
    const apiUrl = stringOption(input, "api");
    if ((email === undefined) === (slackUserId === undefined)) {
      throw usageError("give exactly one of --email and --slack-user", "login");
    }
    if (email !== undefined && !EMAIL.test(email)) {
      throw usageError(`--email must be an email address, got '${email}'`, "login");
    }
    if (slackUserId !== undefined && !SLACK_USER.test(slackUserId)) {
      throw usageError(
        `--slack-user must be a Slack user id such as U0123ABCD, got '${slackUserId}'`,
        "login",
      );
    }
    if (apiUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(apiUrl)) {
      throw usageError(`--api must be an http(s) URL, got '${apiUrl}'`, "login");
    }
    if (apiUrl !== undefined) {
      await updateConfigFile(context.configDirectory, { apiUrl });
    }
    const api = await context.anonymousApi();
    const host =
      hostname()
        .replace(/[^\p{L}\p{N}._@:-]/gu, "-")
        .slice(0, 100) || "unknown-host";
    const started = await call(
      api.POST("/v1/cli/sign-ins", {
        body: {
          host,
          ...(email === undefined ? {} : { email }),
          ...(slackUserId === undefined ? {} : { slackUserId }),
        },
      }),
    );
    // On stderr, so that --json output stays one document.
    context.output.err(
      `Keyturn sent you a Slack DM. Approve it if it shows the code ${started.code} (this host: ${host}).\n` +
        `Waiting for your answer (until ${started.expiresAt})...\n`,
    );
    for (;;) {
      await sleep(started.pollIntervalSeconds * 1000);
      const polled = await call(api.POST("/v1/cli/sign-ins/poll", { body: { handle: started.handle } }));
      if (polled.status === "pending") {
        continue;
      }
      const info = polled.tokenInfo;
      await forgetCachedCredentials(context.configDirectory);
      await updateConfigFile(context.configDirectory, {
        token: polled.token,
        tokenId: info.id,
        tokenOwner: info.owner,
        ...(info.expiresAt === null ? { tokenExpiresAt: undefined } : { tokenExpiresAt: info.expiresAt }),
      });
      emit(
        context,
        { owner: info.owner, tokenId: info.id, expiresAt: info.expiresAt, scopes: info.scopes },
        () => `Signed in as ${info.owner} until ${info.expiresAt ?? "revoked"}.\n`,
      );
      return 0;
    }
  },
};

export const logout: Command = {
  path: ["logout"],
  summary: "revoke your stored token in Keyturn and delete it from the config file",
  usage: "",
  examples: ["keyturn logout"],
  async run(context) {
    const file = await readConfigFile(context.configDirectory);
    if (file.token === undefined) {
      throw new CliError("not signed in: there is no stored token to log out");
    }
    if (file.tokenId !== undefined) {
      // The stored token revokes itself (KEYTURN_TOKEN, if set, is not the one being logged out).
      const api = await context.anonymousApi();
      const { response } = await api.DELETE("/v1/tokens/{id}", {
        params: { path: { id: file.tokenId } },
        headers: { authorization: `Bearer ${file.token}` },
      });
      // 401: it is revoked or expired already, which is what logging out wants.
      if (!response.ok && response.status !== 401) {
        throw new CliError(`could not revoke the token (HTTP ${response.status}); it is still stored`);
      }
    }
    await forgetCachedCredentials(context.configDirectory);
    await updateConfigFile(context.configDirectory, {
      token: undefined,
      tokenId: undefined,
      tokenOwner: undefined,
      tokenExpiresAt: undefined,
    });
    emit(context, { loggedOut: true, revoked: file.tokenId !== undefined }, () =>
      file.tokenId === undefined
        ? "Logged out: the token is deleted here (it was not from keyturn login, so revoke it in Keyturn if needed).\n"
        : "Logged out: the token is revoked and deleted.\n",
    );
    return 0;
  },
};
