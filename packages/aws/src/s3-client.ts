import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { awsErrorName } from "./errors.js";
import {
  type AdapterLogger,
  type AwsCallObserver,
  type CallContext,
  callAws,
  type RetryOptions,
  retryPolicy,
} from "./retry.js";
import { type AwsCredentials, sdkClientDefaults } from "./sdk-config.js";
import { systemTime, type TimeSource } from "./time-source.js";

export type BucketPolicyStoreOptions = {
  region: string;
  /**
   * When omitted, the SDK honours AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL (see
   * identity-center-client.ts); this package reads no environment itself.
   */
  endpoint?: string;
  credentials?: AwsCredentials;
  /**
   * Path-style URLs (http://host/bucket). Default: on when `endpoint` is given, since emulators
   * and S3-compatible stores rarely resolve bucket subdomains. A composition root that relies on
   * AWS_ENDPOINT_URL_S3 instead must set it, because only it knows the variable is set.
   */
  forcePathStyle?: boolean;
  retry?: RetryOptions;
  logger?: AdapterLogger;
  /** Told about every attempt (metrics); see AwsCallObserver. */
  onCall?: AwsCallObserver;
  time?: TimeSource;
};

export type BucketEncryptionConfig = {
  /** AES256, aws:kms, aws:kms:dsse, ... as AWS names it. */
  sseAlgorithm: string;
  kmsMasterKeyId?: string;
  bucketKeyEnabled: boolean;
};

export type BucketPolicyStore = {
  /** The policy JSON exactly as stored, or null when the bucket has none. */
  getPolicy(bucket: string): Promise<string | null>;
  putPolicy(bucket: string, policyJson: string): Promise<void>;
  /** The default encryption rule, or null when the bucket has no configuration. */
  getEncryption(bucket: string): Promise<BucketEncryptionConfig | null>;
  close(): void;
};

export function createBucketPolicyStore(options: BucketPolicyStoreOptions): BucketPolicyStore {
  const s3 = new S3Client({
    ...sdkClientDefaults,
    region: options.region,
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    // Checksums only where S3 requires them: since client-s3 3.729 every Put carries a CRC32 by
    // default, which S3-compatible endpoints often reject (aws/aws-sdk-js-v3#6810).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  // S3's request rates are per prefix and far above ours, so no limiter; retries and error
  // translation are the same as for Identity Center.
  const ctx: CallContext = {
    policy: retryPolicy(options.retry),
    time: options.time ?? systemTime,
    logger: options.logger,
    service: "s3",
    onCall: options.onCall,
  };

  return {
    getPolicy: (bucket) =>
      callAws(ctx, {
        operation: "GetBucketPolicy",
        send: async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? null,
        recover: (error) => (awsErrorName(error) === "NoSuchBucketPolicy" ? { value: null } : undefined),
      }),
    putPolicy: async (bucket, policyJson) => {
      await callAws(ctx, {
        operation: "PutBucketPolicy",
        send: () => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyJson })),
      });
    },
    getEncryption: (bucket) =>
      callAws(ctx, {
        operation: "GetBucketEncryption",
        send: async (): Promise<BucketEncryptionConfig | null> => {
          const output = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
          const rule = output.ServerSideEncryptionConfiguration?.Rules?.[0];
          const algorithm = rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
          if (rule === undefined || algorithm === undefined) {
            return null;
          }
          const keyId = rule.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID;
          return {
            sseAlgorithm: algorithm,
            ...(keyId === undefined ? {} : { kmsMasterKeyId: keyId }),
            bucketKeyEnabled: rule.BucketKeyEnabled ?? false,
          };
        },
        recover: (error) =>
          awsErrorName(error) === "ServerSideEncryptionConfigurationNotFoundError"
            ? { value: null }
            : undefined,
      }),
    close: () => {
      s3.destroy();
    },
  };
}
