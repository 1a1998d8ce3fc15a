import { BoolFlag, KeyturnRoleArn, type Loaded, parseEnv } from "@keyturn/config";
import { z } from "zod";

// The S3 settings of the bucket-policy routes and CLI. (To move into @keyturn/config's API schema;
// kept here until then so the config package is not changed under other work.)
const BucketPolicyEnvSchema = z.object({
  /** Unset: the API runs without an S3 client and the bucket routes that need S3 answer 503. */
  AWS_REGION: z.string().min(1).optional(),
  /** Path-style URLs, for S3-compatible endpoints and the local emulator. */
  AWS_S3_FORCE_PATH_STYLE: BoolFlag.default(false),
  /** Keyturn's own role (with its path); unset: STS GetCallerIdentity says who it is. */
  KEYTURN_ROLE_ARN: KeyturnRoleArn.optional(),
});

export type BucketPolicyS3Config = {
  region: string;
  forcePathStyle: boolean;
  keyturnRoleArn?: string;
} | null;

/**
 * The endpoint itself is not read here: the AWS SDK honours AWS_ENDPOINT_URL_S3 (then
 * AWS_ENDPOINT_URL) on its own, and credentials come from its standard provider chain.
 */
export function loadBucketPolicyS3Config(
  env: Record<string, string | undefined>,
): Loaded<BucketPolicyS3Config> {
  return parseEnv(BucketPolicyEnvSchema, env, (e) =>
    e.AWS_REGION === undefined
      ? null
      : {
          region: e.AWS_REGION,
          forcePathStyle: e.AWS_S3_FORCE_PATH_STYLE,
          ...(e.KEYTURN_ROLE_ARN === undefined ? {} : { keyturnRoleArn: e.KEYTURN_ROLE_ARN }),
        },
  );
}
