import type { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import type { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import type { IdentityCenterOptions } from "./identity-center-client.js";
import type { CallKind } from "./rate-limiter.js";

/**
 * One Identity Center call: retried and translated (callAws), and paced by the shared limiter in
 * the quota slot of its kind. `beforeSend` runs before each attempt's wait; the check it returns
 * runs right after the wait, synchronously, so the request leaves in its slot.
 */
export type IdentityCenterCall = <T>(
  operation: string,
  kind: CallKind,
  send: () => Promise<T>,
  recover?: (error: unknown) => { value: T } | undefined,
  beforeSend?: () => Promise<(() => void) | undefined>,
) => Promise<T>;

/** What the parts of the Identity Center adapter share: the SDK clients and the one way to call them. */
export type IdentityCenterContext = {
  ssoAdmin: SSOAdminClient;
  identityStore: IdentitystoreClient;
  call: IdentityCenterCall;
  options: IdentityCenterOptions;
};
