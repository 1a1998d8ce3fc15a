import { call } from "../api-client.js";
import {
  forgetCachedCredentials,
  type ProcessCredentials,
  readCachedCredentials,
  writeCachedCredentials,
} from "../aws/credential-cache.js";
import { forgetSsoToken, type SsoSettings, ssoAccessToken } from "../aws/sso-token.js";
import { CliError, usageError } from "../cli-error.js";
import { type Command, type CommandContext, type CommandInput, flag, stringOption } from "../command.js";
import { readConfigFile } from "../config-file.js";
import { durationOption } from "../durations.js";
import { printJson } from "../output.js";
import { type AccessRequest, waitForActive } from "../requests.js";

const FLOW_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const SSO_OPTIONS = {
  "sso-start-url": {
    type: "string",
    label: "--sso-start-url <url>",
    description: "your AWS access portal URL (default: KEYTURN_SSO_START_URL)",
  },
  "sso-region": {
    type: "string",
    label: "--sso-region <region>",
    description: "the IAM Identity Center region (default: KEYTURN_SSO_REGION)",
  },
  "sso-session": {
    type: "string",
    label: "--sso-session <name>",
    description: "the AWS CLI sso-session whose cached sign-in to share (default: the start URL's)",
  },
} as const;

function flowArgument(input: CommandInput, command: string): string {
  const flow = input.positionals[0] ?? "";
  if (!FLOW_NAME.test(flow)) {
    throw usageError(`'${flow}' is not a flow name (keyturn flows lists yours)`, command);
  }
  return flow;
}

function ssoSettings(context: CommandContext, input: CommandInput, command: string): SsoSettings {
  const startUrl = stringOption(input, "sso-start-url") ?? context.ssoDefaults.startUrl;
  const region = stringOption(input, "sso-region") ?? context.ssoDefaults.region;
  const session = stringOption(input, "sso-session") ?? context.ssoDefaults.session;
  if (startUrl === undefined || !/^https:\/\/\S+$/.test(startUrl)) {
    throw usageError(
      "--sso-start-url (or KEYTURN_SSO_START_URL) must be your https AWS access portal URL",
      command,
    );
  }
  if (region === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw usageError("--sso-region (or KEYTURN_SSO_REGION) must be an AWS region such as eu-west-1", command);
  }
  return { startUrl, region, ...(session === undefined ? {} : { session }) };
}

/**
 * The person's newest active grant through `flow`, or null. A `keyturn login` token sees its own
 * person's requests only; a broader token (requests:read) sees everyone's, so the person must be
 * known (from `keyturn login`) or the answer unambiguous.
 */
async function activeGrant(context: CommandContext, flow: string): Promise<AccessRequest | null> {
  const api = await context.api();
  const owner = (await readConfigFile(context.configDirectory)).tokenOwner;
  const query = { flow, state: "active", limit: 50, ...(owner === undefined ? {} : { requester: owner }) };
  const { items } = await call(api.GET("/v1/requests", { params: { query } }));
  const requesters = new Set(items.map((r) => r.requester.email));
  if (requesters.size > 1) {
    throw new CliError(
      `this token sees the requests of ${requesters.size} people; keyturn credentials needs your own: run 'keyturn login'`,
    );
  }
  const live = items.filter((r) => r.lease !== null && Date.parse(r.lease.endsAt) > context.now().getTime());
  live.sort((a, b) => Date.parse(b.lease?.endsAt ?? "") - Date.parse(a.lease?.endsAt ?? ""));
  return live[0] ?? null;
}

async function roleCredentials(
  context: CommandContext,
  sso: SsoSettings,
  grant: AccessRequest,
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: number }> {
  const io = { home: context.home, now: context.now, say: (line: string) => context.output.err(line) };
  const { SSOClient, GetRoleCredentialsCommand, UnauthorizedException } = await import("@aws-sdk/client-sso");
  const client = new SSOClient({ region: sso.region });
  try {
    for (let attempt = 1; ; attempt++) {
      const accessToken = await ssoAccessToken(sso, io);
      try {
        const answer = await client.send(
          new GetRoleCredentialsCommand({
            accessToken,
            accountId: grant.target.accountId,
            roleName: grant.target.permissionSetName,
          }),
        );
        const role = answer.roleCredentials;
        if (
          role?.accessKeyId === undefined ||
          role.secretAccessKey === undefined ||
          role.sessionToken === undefined
        ) {
          throw new CliError("IAM Identity Center answered without credentials");
        }
        return {
          accessKeyId: role.accessKeyId,
          secretAccessKey: role.secretAccessKey,
          sessionToken: role.sessionToken,
          expiration: role.expiration ?? 0,
        };
      } catch (error) {
        if (error instanceof UnauthorizedException && attempt === 1) {
          // The cached sign-in is no longer good: forget it and sign in again, once.
          await forgetSsoToken(context.home, sso);
          continue;
        }
        // "No access": not a modelled exception of client-sso, so known by its name.
        if ((error as { name?: unknown }).name === "ForbiddenException") {
          throw new CliError(
            `IAM Identity Center does not give you ${grant.target.permissionSetName} in account ${grant.target.accountId} ` +
              "(the access may have just ended, or be signed in as another AWS user)",
          );
        }
        throw error instanceof CliError
          ? error
          : new CliError(`GetRoleCredentials failed: ${(error as Error).message}`);
      }
    }
  } finally {
    client.destroy();
  }
}

export const credentials: Command = {
  path: ["credentials"],
  summary: "print AWS credentials for a flow you hold access through (for credential_process)",
  usage:
    "<flow> [--request-if-needed --reason <text> [--duration 1h]] [--sso-start-url <url> --sso-region <r>]",
  description:
    "Prints the credential_process JSON. With an active grant it gets role credentials from the AWS\n" +
    "access portal with your IAM Identity Center sign-in (the AWS CLI's SSO cache, or a device sign-in\n" +
    "it then caches); they expire no later than your access ends. Answers from a private cache\n" +
    "(0600, no network) until 5 minutes before they expire. Without a grant: one line on stderr, exit 1.",
  examples: [
    "keyturn credentials s3-data --sso-start-url https://d-0123456789.awsapps.com/start --sso-region eu-west-1",
    'keyturn credentials s3-data --request-if-needed --reason "INC-42"',
  ],
  options: {
    ...SSO_OPTIONS,
    "request-if-needed": { type: "boolean", description: "without a grant, request one and wait for it" },
    reason: { type: "string", label: "--reason <text>", description: "with --request-if-needed: why" },
    duration: { type: "string", label: "--duration <1h>", description: "with --request-if-needed: how long" },
  },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const flow = flowArgument(input, "credentials");
    // The fast path: every new AWS process runs this; no network, no SDK loaded.
    const cached = await readCachedCredentials(context.configDirectory, flow, context.now());
    if (cached !== null) {
      printJson(context.output, cached);
      return 0;
    }
    const sso = ssoSettings(context, input, "credentials");
    let grant = await activeGrant(context, flow);
    if (grant === null) {
      await forgetCachedCredentials(context.configDirectory, flow);
      if (!flag(input, "request-if-needed")) {
        throw new CliError(
          `no active access through flow '${flow}': request it with 'keyturn request ${flow} --reason "..." --wait'`,
        );
      }
      const api = await context.api();
      const duration = stringOption(input, "duration");
      const reason = stringOption(input, "reason");
      const filed = await call(
        api.POST("/v1/requests", {
          body: {
            flow,
            ...(duration === undefined
              ? {}
              : { durationSeconds: durationOption(duration, "duration", "credentials") }),
            ...(reason === undefined ? {} : { reason }),
          },
        }),
      );
      grant = await waitForActive(api, filed, {
        timeoutMs: 3_600_000,
        now: context.now,
        progress: (line) => context.output.err(`keyturn: request ${filed.id}: ${line}`),
      });
    }
    const role = await roleCredentials(context, sso, grant);
    const leaseEnd = Date.parse(grant.lease?.endsAt ?? grant.expiresAt ?? "");
    const expiration = Number.isNaN(leaseEnd) ? role.expiration : Math.min(role.expiration, leaseEnd);
    const document: ProcessCredentials = {
      Version: 1,
      AccessKeyId: role.accessKeyId,
      SecretAccessKey: role.secretAccessKey,
      SessionToken: role.sessionToken,
      Expiration: new Date(expiration).toISOString(),
    };
    await writeCachedCredentials(context.configDirectory, flow, document);
    printJson(context.output, document);
    return 0;
  },
};

export const profile: Command = {
  path: ["profile"],
  summary: "print the ~/.aws/config profile that gets a flow's credentials through keyturn",
  usage: "<flow> --sso-start-url <url> --sso-region <region> [--region <r>] [--command <keyturn>]",
  examples: [
    "keyturn profile s3-data --sso-start-url https://d-0123456789.awsapps.com/start --sso-region eu-west-1 >> ~/.aws/config",
  ],
  options: {
    ...SSO_OPTIONS,
    region: {
      type: "string",
      label: "--region <region>",
      description: "the profile's region (default: the SSO region)",
    },
    command: {
      type: "string",
      label: "--command <cmd>",
      description: "how to run keyturn from the profile (default: keyturn)",
    },
  },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const flow = flowArgument(input, "profile");
    const sso = ssoSettings(context, input, "profile");
    const region = stringOption(input, "region") ?? sso.region;
    const command = stringOption(input, "command") ?? "keyturn";
    const args = [
      `credentials ${flow}`,
      `--sso-start-url ${sso.startUrl}`,
      `--sso-region ${sso.region}`,
      ...(sso.session === undefined ? [] : [`--sso-session ${sso.session}`]),
    ];
    const block = `[profile keyturn-${flow}]\ncredential_process = ${command} ${args.join(" ")}\nregion = ${region}\n`;
    if (context.json) {
      printJson(context.output, { profile: `keyturn-${flow}`, block });
    } else {
      context.output.out(block);
    }
    return 0;
  },
};
