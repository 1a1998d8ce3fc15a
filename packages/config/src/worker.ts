import { z } from "zod";
import { DatabaseFragment, LogFragment, Port } from "./fragments.js";
import { type Loaded, parseEnv } from "./load.js";

const Seconds = z.coerce.number().int().min(1);

export const WorkerEnvSchema = z.object({
  ...DatabaseFragment.shape,
  ...LogFragment.shape,
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
    .default("keyturn"),
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
});

export type WorkerConfig = {
  databaseUrl: string;
  redis: { url: string; prefix: string };
  concurrency: number;
  sweepIntervalMs: number;
  driftScanIntervalMs: number;
  outboxPollMs: number;
  health: { host: string; port: number };
  aws: { region: string; instanceArn?: string; identityStoreId?: string; callsPerSecond: number };
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
    health: { host: e.WORKER_HEALTH_HOST, port: e.WORKER_HEALTH_PORT },
    aws: {
      region: e.AWS_REGION,
      ...(e.AWS_IDENTITY_CENTER_INSTANCE_ARN === undefined
        ? {}
        : { instanceArn: e.AWS_IDENTITY_CENTER_INSTANCE_ARN }),
      ...(e.AWS_IDENTITY_STORE_ID === undefined ? {} : { identityStoreId: e.AWS_IDENTITY_STORE_ID }),
      callsPerSecond: e.AWS_CALLS_PER_SECOND,
    },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? isTty },
  }));
}
