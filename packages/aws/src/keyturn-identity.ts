import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { AppError, type KeyturnIdentity, type KeyturnPrincipal } from "@keyturn/usecases";
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

export type KeyturnIdentityOptions = {
  region: string;
  /**
   * Keyturn's role ARN as configured (KEYTURN_ROLE_ARN): used as it is, STS is not asked. It also
   * gives the role's path, which the session ARN STS answers with does not carry.
   */
  roleArn?: string;
  /** When omitted, the SDK honours AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL. */
  endpoint?: string;
  credentials?: AwsCredentials;
  retry?: RetryOptions;
  logger?: AdapterLogger;
  onCall?: AwsCallObserver;
  time?: TimeSource;
};

/**
 * Who Keyturn's credentials belong to: STS GetCallerIdentity (no permission needed: AWS lets every
 * principal call it), asked once and remembered; a failure is not remembered, so the next use asks
 * again.
 */
export function createKeyturnIdentity(options: KeyturnIdentityOptions): KeyturnIdentity & { close(): void } {
  const configured = options.roleArn;
  if (configured !== undefined) {
    const principal: KeyturnPrincipal = { arn: configured, source: "config" };
    return { whoAmI: async () => principal, close: () => undefined };
  }
  let client: STSClient | undefined;
  const ctx: CallContext = {
    policy: retryPolicy(options.retry),
    time: options.time ?? systemTime,
    logger: options.logger,
    service: "sts",
    onCall: options.onCall,
  };
  let known: Promise<KeyturnPrincipal> | undefined;
  const ask = async (): Promise<KeyturnPrincipal> => {
    client ??= new STSClient({
      ...sdkClientDefaults,
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
    const sts = client;
    const output = await callAws(ctx, {
      operation: "GetCallerIdentity",
      send: () => sts.send(new GetCallerIdentityCommand({})),
    });
    if (output.Arn === undefined) {
      throw new AppError("AWS_UNEXPECTED_RESPONSE", "STS GetCallerIdentity answered without an Arn", {
        retryable: true,
      });
    }
    return { arn: output.Arn, source: "sts" };
  };
  return {
    whoAmI() {
      known ??= ask().catch((error: unknown) => {
        known = undefined;
        throw error;
      });
      return known;
    },
    close: () => client?.destroy(),
  };
}
