import type { FlowTarget } from "@keyturn/core";

export type AwsAccessConfig = {
  /** The AWS access portal (Identity Center start URL), e.g. https://d-1234567890.awsapps.com/start */
  portalUrl: string;
  /** The region Identity Center lives in. */
  ssoRegion: string;
  /** The profile's default region for commands; defaults to the SSO region. */
  defaultRegion?: string;
};

const SESSION_NAME = "keyturn";

/** A profile name the AWS CLI accepts for a target: keyturn-<account>-<permission set>. */
export function profileName(target: FlowTarget): string {
  return `keyturn-${target.accountId}-${target.permissionSetName}`.replace(/[^A-Za-z0-9+=,.@_-]/g, "-");
}

/**
 * What to paste into ~/.aws/config to use a grant: an sso-session shared by every Keyturn profile
 * and one profile per target (`aws configure sso` writes the same shape).
 */
export function cliProfile(target: FlowTarget, aws: AwsAccessConfig): string {
  return [
    `[profile ${profileName(target)}]`,
    `sso_session = ${SESSION_NAME}`,
    `sso_account_id = ${target.accountId}`,
    `sso_role_name = ${target.permissionSetName}`,
    `region = ${aws.defaultRegion ?? aws.ssoRegion}`,
    "",
    `[sso-session ${SESSION_NAME}]`,
    `sso_start_url = ${aws.portalUrl}`,
    `sso_region = ${aws.ssoRegion}`,
    "sso_registration_scopes = sso:account:access",
  ].join("\n");
}
