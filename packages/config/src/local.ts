import { z } from "zod";
import { Port, RedisUrl } from "./fragments.js";
import { type Loaded, parseEnv } from "./load.js";

// The main command's own environment (apps/local, `bash scripts/start.sh`), parsed once in its
// main.ts. It runs the api, Slack app and worker as processes; what each of them reads is checked
// by that app's own schema. Which AWS and which Slack they talk to is chosen here, explicitly:
// never inferred from whichever AWS or Slack variable happens to be set.

export const LocalEnvSchema = z.object({
  /**
   * emulator: start the local AWS emulator (a demo Identity Center and a protected bucket) and point
   * the apps at it, whatever AWS variables are set. real: start none; the apps use the AWS that
   * AWS_REGION, the credential chain and AWS_ENDPOINT_URL (if set) describe.
   */
  KEYTURN_LOCAL_AWS: z.enum(["emulator", "real"]).default("emulator"),
  /**
   * fake: start the local fake Slack Web API and point the apps at it, whatever Slack variables are
   * set. real: start none; the apps use SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN)
   * and SLACK_API_URL as set.
   */
  KEYTURN_LOCAL_SLACK: z.enum(["fake", "real"]).default("fake"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection string")
    .default("postgresql://postgres@127.0.0.1:5432/keyturn"),
  REDIS_URL: RedisUrl.default("redis://127.0.0.1:6379"),
  /** Default "keyturn"; each --demo run takes a fresh prefix of its own whatever this says. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
    .optional(),
  API_PORT: Port.default(3000),
  SLACK_PORT: Port.default(3001),
  WORKER_HEALTH_PORT: Port.default(9464),
  /** Where the emulator listens (0: any free port); --demo always takes a free one. */
  AWS_EMULATOR_PORT: Port.default(4566),
  SLACK_FAKE_PORT: Port.default(3100),
  /** The scripted demo's access window (and how long it waits for the expiry). */
  KEYTURN_DEMO_SECONDS: z.coerce.number().int().min(5).max(600).default(20),
});

export type LocalConfig = {
  aws: "emulator" | "real";
  slack: "fake" | "real";
  databaseUrl: string;
  redis: { url: string; prefix: string | undefined };
  ports: { api: number; slack: number; worker: number; emulator: number; fakeSlack: number };
  demoSeconds: number;
};

export function loadLocalConfig(env: Record<string, string | undefined>): Loaded<LocalConfig> {
  return parseEnv(LocalEnvSchema, env, (e) => ({
    aws: e.KEYTURN_LOCAL_AWS,
    slack: e.KEYTURN_LOCAL_SLACK,
    databaseUrl: e.DATABASE_URL,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    ports: {
      api: e.API_PORT,
      slack: e.SLACK_PORT,
      worker: e.WORKER_HEALTH_PORT,
      emulator: e.AWS_EMULATOR_PORT,
      fakeSlack: e.SLACK_FAKE_PORT,
    },
    demoSeconds: e.KEYTURN_DEMO_SECONDS,
  }));
}
