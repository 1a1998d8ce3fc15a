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

export const ApiEnvSchema = z
  .object({
    ...DatabaseFragment.shape,
    ...LogFragment.shape,
    ...IntegrationsFragment.shape,
    /** Jira's webhook secret: set, POST /v1/webhooks/jira accepts deliveries signed with it. */
    JIRA_WEBHOOK_SECRET: z.string().min(16, "use a long random secret (at least 16 characters)").optional(),
    /** Linear's webhook signing secret: set, POST /v1/webhooks/linear accepts deliveries signed with it. */
    LINEAR_WEBHOOK_SECRET: z.string().min(16, "looks too short for a Linear signing secret").optional(),
    API_HOST: z.string().default("127.0.0.1"),
    API_PORT: Port.default(3000),
    API_BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(256 * 1024),
    /** Requests per minute per API token, after authentication. */
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    /** Requests per minute per client address, before authentication (bad tokens included). */
    API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    /**
     * The proxies in front of the API (comma-separated addresses or CIDRs) whose X-Forwarded-For is
     * believed; empty: the socket's address is the client's, and X-Forwarded-For is ignored.
     */
    API_TRUSTED_PROXIES: z
      .string()
      .default("")
      .transform((raw) =>
        raw
          .split(",")
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ""),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, "must be IP addresses or CIDRs, separated by commas"),
        ),
      ),
    /** The worker's Redis: set, the API serves the queue dashboard at /admin/queues; unset, it does not. */
    REDIS_URL: RedisUrl.optional(),
    /** The worker's key prefix, so the dashboard shows the same queues. */
    REDIS_PREFIX: RedisPrefix,
  })
  .superRefine(refineIntegrations);

export type ApiConfig = {
  databaseUrl: string;
  api: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    /** Per token, after authentication. */
    rateLimitPerMinute: number;
    /** Per client address, before authentication. */
    rateLimitPerAddressPerMinute: number;
    /** Proxies whose X-Forwarded-For is believed; empty: none. */
    trustedProxies: string[];
  };
  /** Absent when REDIS_URL is unset: no queue dashboard. */
  redis?: { url: string; prefix: string };
  integrations: IntegrationsConfig;
  /** The secrets ticket webhooks are signed with; an unset one: that route answers 404. */
  webhooks: { jiraSecret?: string; linearSecret?: string };
  log: { level: z.infer<typeof LogFragment>["LOG_LEVEL"]; pretty: boolean };
};

export function loadApiConfig(env: Record<string, string | undefined>, isTty = false): Loaded<ApiConfig> {
  return parseEnv(ApiEnvSchema, env, (e) => ({
    databaseUrl: e.DATABASE_URL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      bodyLimitBytes: e.API_BODY_LIMIT_BYTES,
      rateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
      rateLimitPerAddressPerMinute: e.API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
      trustedProxies: e.API_TRUSTED_PROXIES,
    },
    ...(e.REDIS_URL === undefined ? {} : { redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX } }),
    integrations: integrationsConfig(e),
    webhooks: {
      ...(e.JIRA_WEBHOOK_SECRET === undefined ? {} : { jiraSecret: e.JIRA_WEBHOOK_SECRET }),
      ...(e.LINEAR_WEBHOOK_SECRET === undefined ? {} : { linearSecret: e.LINEAR_WEBHOOK_SECRET }),
    },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? isTty },
  }));
}
