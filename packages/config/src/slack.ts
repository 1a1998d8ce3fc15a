import { z } from "zod";
import {
  DatabaseFragment,
  type IntegrationsConfig,
  IntegrationsFragment,
  integrationsConfig,
  LogFragment,
  Port,
  RedisPrefix,
  RedisUrl,
  refineIntegrations,
} from "./fragments.js";
import { type Loaded, parseEnv } from "./load.js";

// The Slack app's environment, parsed once in apps/slack/src/main.ts.

export const SlackEnvSchema = z
  .object({
    ...DatabaseFragment.shape,
    ...LogFragment.shape,
    ...IntegrationsFragment.shape,
    /** http: Slack posts to SLACK_PORT (signing secret); socket: the app dials out (app token). */
    SLACK_MODE: z.enum(["http", "socket"]).default("http"),
    SLACK_BOT_TOKEN: z
      .string({ error: "is required (the bot token, xoxb-...)" })
      .regex(/^xoxb-/, "must be a bot token (xoxb-...)"),
    SLACK_SIGNING_SECRET: z.string().min(16, "looks too short for a Slack signing secret").optional(),
    SLACK_APP_TOKEN: z
      .string()
      .regex(/^xapp-/, "must be an app-level token (xapp-...)")
      .optional(),
    /** Any Slack-compatible Web API (a proxy, a fake); default Slack's own. */
    SLACK_API_URL: z
      .url({ protocol: /^https?$/ })
      .default("https://slack.com/api/")
      .transform((url) => (url.endsWith("/") ? url : `${url}/`)),
    SLACK_PORT: Port.default(3001),
    /**
     * HTTP mode: where the replicas remember the signed requests they accepted, so a replay is
     * refused by every one of them, across restarts (the worker's Redis will do).
     */
    REDIS_URL: RedisUrl.optional(),
    REDIS_PREFIX: RedisPrefix,
    /** The Identity Center start URL requesters sign in at, e.g. https://d-1234567890.awsapps.com/start */
    AWS_ACCESS_PORTAL_URL: z.url({ protocol: /^https?$/, error: "is required (the AWS access portal URL)" }),
    AWS_SSO_REGION: z
      .string({ error: "is required (the region of IAM Identity Center, e.g. eu-west-1)" })
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1"),
  })
  .superRefine((env, ctx) => {
    refineIntegrations(env, ctx);
    if (env.SLACK_MODE === "http" && env.SLACK_SIGNING_SECRET === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["SLACK_SIGNING_SECRET"],
        message: "is required in http mode: without it Keyturn cannot tell Slack's requests from forgeries",
      });
    }
    if (env.SLACK_MODE === "http" && env.REDIS_URL === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["REDIS_URL"],
        message:
          "is required in http mode: the replicas share their memory of accepted Slack requests there, so none accepts a replay",
      });
    }
    if (env.SLACK_MODE === "socket" && env.SLACK_APP_TOKEN === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["SLACK_APP_TOKEN"],
        message: "is required in socket mode (an xapp- token with connections:write)",
      });
    }
  });

export type SlackTransport =
  | { mode: "http"; signingSecret: string; port: number; redis: { url: string; prefix: string } }
  | { mode: "socket"; appToken: string };

export type SlackAppConfig = {
  databaseUrl: string;
  slack: { botToken: string; apiUrl: string; transport: SlackTransport };
  aws: { portalUrl: string; ssoRegion: string };
  integrations: IntegrationsConfig;
  log: { level: z.infer<typeof LogFragment>["LOG_LEVEL"]; pretty: boolean };
};

export function loadSlackConfig(
  env: Record<string, string | undefined>,
  isTty = false,
): Loaded<SlackAppConfig> {
  return parseEnv(SlackEnvSchema, env, (e) => ({
    databaseUrl: e.DATABASE_URL,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      apiUrl: e.SLACK_API_URL,
      // superRefine guarantees the secret/token of the chosen mode.
      transport:
        e.SLACK_MODE === "http"
          ? {
              mode: "http",
              signingSecret: e.SLACK_SIGNING_SECRET ?? "",
              port: e.SLACK_PORT,
              redis: { url: e.REDIS_URL ?? "", prefix: e.REDIS_PREFIX },
            }
          : { mode: "socket", appToken: e.SLACK_APP_TOKEN ?? "" },
    },
    aws: { portalUrl: e.AWS_ACCESS_PORTAL_URL, ssoRegion: e.AWS_SSO_REGION },
    integrations: integrationsConfig(e),
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? isTty },
  }));
}
