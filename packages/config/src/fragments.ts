import { z } from "zod";

/** Env flags: "false" must mean false (z.coerce.boolean() would make it true). */
export const BoolFlag = z.stringbool({
  truthy: ["true", "1", "yes", "on"],
  falsy: ["false", "0", "no", "off"],
});

export const LogLevelSchema = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

export const DatabaseFragment = z.object({
  DATABASE_URL: z
    .string({ error: "is required (a postgresql:// connection string)" })
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection string"),
});

export const LogFragment = z.object({
  LOG_LEVEL: LogLevelSchema.default("info"),
  /** Pretty output only where a person reads it; production logs stay JSON. */
  LOG_PRETTY: BoolFlag.optional(),
});

export const Port = z.coerce.number().int().min(0).max(65535);

/** Same names and rules wherever Redis is read: the worker's queue, the API's queue dashboard. */
export const RedisUrl = z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL");
export const RedisPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
  .default("keyturn");

/** An IAM role ARN, path included: Keyturn's own role, which bucket specs must keep in. */
export const KeyturnRoleArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
    "must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<path>/<name>)",
  );

const HttpUrl = z.url({ protocol: /^https?$/ });

/**
 * The on-call and ticket providers (all optional). A flow naming a provider that is not set up here
 * is refused when it is put. Every app that submits, checks or judges requests reads the same ones.
 */
export const IntegrationsFragment = z.object({
  /** A read-only PagerDuty REST API key. */
  PAGERDUTY_TOKEN: z.string().min(1).optional(),
  PAGERDUTY_API_URL: HttpUrl.default("https://api.pagerduty.com"),
  /** The Jira Cloud site, e.g. https://acme.atlassian.net, with the account and API token it is read as. */
  JIRA_BASE_URL: HttpUrl.optional(),
  JIRA_EMAIL: z.email("must be the email of the Jira account the API token belongs to").optional(),
  JIRA_API_TOKEN: z.string().min(1).optional(),
  /** A Linear API key with read access. */
  LINEAR_API_KEY: z.string().min(1).optional(),
  LINEAR_API_URL: HttpUrl.default("https://api.linear.app/graphql"),
  /** The bound on one provider check (every page and retry included). */
  INTEGRATION_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
});
type IntegrationsEnv = z.infer<typeof IntegrationsFragment>;

export type IntegrationsConfig = {
  timeoutMs: number;
  pagerduty?: { token: string; apiUrl: string };
  jira?: { siteUrl: string; email: string; apiToken: string };
  linear?: { apiKey: string; apiUrl: string };
};

/** Jira needs its three settings together: a part of them is a mistake, not "Jira off". */
export function refineIntegrations(env: IntegrationsEnv, ctx: z.RefinementCtx): void {
  const jira = ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"] as const;
  const set = jira.filter((key) => env[key] !== undefined);
  if (set.length > 0 && set.length < jira.length) {
    for (const key of jira.filter((k) => env[k] === undefined)) {
      ctx.addIssue({ code: "custom", path: [key], message: `is required with ${set.join(" and ")}` });
    }
  }
}

export function integrationsConfig(env: IntegrationsEnv): IntegrationsConfig {
  return {
    timeoutMs: env.INTEGRATION_TIMEOUT_MS,
    ...(env.PAGERDUTY_TOKEN === undefined
      ? {}
      : { pagerduty: { token: env.PAGERDUTY_TOKEN, apiUrl: env.PAGERDUTY_API_URL } }),
    ...(env.JIRA_BASE_URL === undefined || env.JIRA_EMAIL === undefined || env.JIRA_API_TOKEN === undefined
      ? {}
      : { jira: { siteUrl: env.JIRA_BASE_URL, email: env.JIRA_EMAIL, apiToken: env.JIRA_API_TOKEN } }),
    ...(env.LINEAR_API_KEY === undefined
      ? {}
      : { linear: { apiKey: env.LINEAR_API_KEY, apiUrl: env.LINEAR_API_URL } }),
  };
}
