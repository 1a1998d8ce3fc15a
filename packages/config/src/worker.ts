import { z } from "zod";
import {
  BoolFlag,
  DatabaseFragment,
  type IntegrationsConfig,
  IntegrationsFragment,
  integrationsConfig,
  KeyturnRoleArn,
  LogFragment,
  Port,
  RedisPrefix,
  RedisUrl,
  refineIntegrations,
} from "./fragments.js";
import { type Loaded, parseEnv } from "./load.js";

const Seconds = z.coerce.number().int().min(1);

export const WorkerEnvSchema = z
  .object({
    ...DatabaseFragment.shape,
    ...LogFragment.shape,
    ...IntegrationsFragment.shape,
    /** How often the tickets open access is bound to are looked up again (missed webhooks). */
    TICKET_POLL_INTERVAL_SECONDS: Seconds.default(60),
    REDIS_URL: RedisUrl.default("redis://127.0.0.1:6379"),
    REDIS_PREFIX: RedisPrefix,
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
    SWEEP_INTERVAL_SECONDS: Seconds.default(30),
    DRIFT_SCAN_INTERVAL_SECONDS: Seconds.default(300),
    OUTBOX_POLL_MS: z.coerce.number().int().min(50).default(1000),
    WORKER_HEALTH_HOST: z.string().default("127.0.0.1"),
    WORKER_HEALTH_PORT: Port.default(9464),
    AWS_REGION: z.string().min(1).default("us-east-1"),
    /** Optional: found with ListInstances when unset. */
    AWS_IDENTITY_CENTER_INSTANCE_ARN: z
      .string()
      .regex(
        /^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/,
        "must look like arn:aws:sso:::instance/ssoins-<16 hex>",
      )
      .optional(),
    AWS_IDENTITY_STORE_ID: z
      .string()
      .regex(/^d-[0-9a-f]{10}$|^[0-9a-f-]{36}$/, "must look like d-0123456789")
      .optional(),
    /** Shared by all worker processes through Redis; Identity Center allows 20 in total. */
    AWS_CALLS_PER_SECOND: z.coerce.number().int().min(1).max(20).default(18),
    /**
     * CreateAccountAssignment calls in flight at once, shared by all worker processes. AWS's pages
     * disagree (10 on the IAM Identity Center quotas page, 15 on the account access manager
     * quotas page); the default is the lower, which cannot be exceeded whichever is in force.
     */
    AWS_MAX_OUTSTANDING_CREATIONS: z.coerce.number().int().min(1).max(15).default(10),
    /** Path-style S3 URLs, for S3-compatible endpoints and the local emulator. */
    AWS_S3_FORCE_PATH_STYLE: BoolFlag.default(false),
    /** Keyturn's own role (with its path); unset: STS GetCallerIdentity says who it is. */
    KEYTURN_ROLE_ARN: KeyturnRoleArn.optional(),
    /** Without a bot token the worker logs notifications instead of posting them to Slack. */
    SLACK_BOT_TOKEN: z
      .string()
      .regex(/^xoxb-/, "must be a bot token (xoxb-...)")
      .optional(),
    SLACK_API_URL: z
      .url({ protocol: /^https?$/ })
      .default("https://slack.com/api/")
      .transform((url) => (url.endsWith("/") ? url : `${url}/`)),
    SLACK_DEFAULT_APPROVAL_CHANNEL: z
      .string()
      .regex(/^[CG][A-Z0-9]{2,20}$/, "must be a Slack channel id")
      .optional(),
    AWS_ACCESS_PORTAL_URL: z.url({ protocol: /^https?$/ }).optional(),
    AWS_SSO_REGION: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as eu-west-1")
      .optional(),
  })
  .superRefine((env, ctx) => {
    refineIntegrations(env, ctx);
    if (env.SLACK_BOT_TOKEN !== undefined && env.AWS_ACCESS_PORTAL_URL === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["AWS_ACCESS_PORTAL_URL"],
        message:
          "is required with SLACK_BOT_TOKEN: the 'access granted' message tells people where to sign in",
      });
    }
  });

export type WorkerConfig = {
  databaseUrl: string;
  redis: { url: string; prefix: string };
  concurrency: number;
  sweepIntervalMs: number;
  driftScanIntervalMs: number;
  outboxPollMs: number;
  ticketPollIntervalMs: number;
  integrations: IntegrationsConfig;
  health: { host: string; port: number };
  aws: {
    region: string;
    instanceArn?: string;
    identityStoreId?: string;
    callsPerSecond: number;
    maxOutstandingCreations: number;
    s3ForcePathStyle: boolean;
    keyturnRoleArn?: string;
  };
  slack?: {
    botToken: string;
    apiUrl: string;
    defaultApprovalChannel?: string;
    portalUrl: string;
    ssoRegion: string;
  };
  log: { level: z.infer<typeof LogFragment>["LOG_LEVEL"]; pretty: boolean };
};

export function loadWorkerConfig(
  env: Record<string, string | undefined>,
  isTty = false,
): Loaded<WorkerConfig> {
  return parseEnv(WorkerEnvSchema, env, (e) => ({
    databaseUrl: e.DATABASE_URL,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    concurrency: e.WORKER_CONCURRENCY,
    sweepIntervalMs: e.SWEEP_INTERVAL_SECONDS * 1000,
    driftScanIntervalMs: e.DRIFT_SCAN_INTERVAL_SECONDS * 1000,
    outboxPollMs: e.OUTBOX_POLL_MS,
    ticketPollIntervalMs: e.TICKET_POLL_INTERVAL_SECONDS * 1000,
    integrations: integrationsConfig(e),
    health: { host: e.WORKER_HEALTH_HOST, port: e.WORKER_HEALTH_PORT },
    aws: {
      region: e.AWS_REGION,
      ...(e.AWS_IDENTITY_CENTER_INSTANCE_ARN === undefined
        ? {}
        : { instanceArn: e.AWS_IDENTITY_CENTER_INSTANCE_ARN }),
      ...(e.AWS_IDENTITY_STORE_ID === undefined ? {} : { identityStoreId: e.AWS_IDENTITY_STORE_ID }),
      callsPerSecond: e.AWS_CALLS_PER_SECOND,
      maxOutstandingCreations: e.AWS_MAX_OUTSTANDING_CREATIONS,
      s3ForcePathStyle: e.AWS_S3_FORCE_PATH_STYLE,
      ...(e.KEYTURN_ROLE_ARN === undefined ? {} : { keyturnRoleArn: e.KEYTURN_ROLE_ARN }),
    },
    ...(e.SLACK_BOT_TOKEN === undefined
      ? {}
      : {
          slack: {
            botToken: e.SLACK_BOT_TOKEN,
            apiUrl: e.SLACK_API_URL,
            ...(e.SLACK_DEFAULT_APPROVAL_CHANNEL === undefined
              ? {}
              : { defaultApprovalChannel: e.SLACK_DEFAULT_APPROVAL_CHANNEL }),
            portalUrl: e.AWS_ACCESS_PORTAL_URL ?? "",
            ssoRegion: e.AWS_SSO_REGION ?? e.AWS_REGION,
          },
        }),
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? isTty },
  }));
}
