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
