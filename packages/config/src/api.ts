import { z } from "zod";
import { DatabaseFragment, LogFragment, Port, RedisPrefix, RedisUrl } from "./fragments.js";
import { type Loaded, parseEnv } from "./load.js";

export const ApiEnvSchema = z.object({
  ...DatabaseFragment.shape,
  ...LogFragment.shape,
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
});

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
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? isTty },
  }));
}
