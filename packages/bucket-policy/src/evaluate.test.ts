import { describe, expect, it } from "vitest";
import {
  type AuthorizationRequest,
  type ContextValue,
  type Evaluation,
  evaluate,
  type PolicyInput,
  type Principal,
} from "./evaluate.js";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const SSO_PATH = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com`;
const DATA_ROLE = `${SSO_PATH}/eu-west-1/AWSReservedSSO_S3Access_0123456789abcdef`;
// Identity Center in us-east-1 leaves the region segment out of the role path.
const DATA_ROLE_US_EAST_1 = `${SSO_PATH}/AWSReservedSSO_S3Access_fedcba9876543210`;
const ADMIN_ROLE = `${SSO_PATH}/eu-west-1/AWSReservedSSO_AdministratorAccess_1111222233334444`;
const S3_ACCESS_ADMIN_ROLE = `${SSO_PATH}/eu-west-1/AWSReservedSSO_S3Access_Admin_5555666677778888`;
const S3_ACCESSADMIN_ROLE = `${SSO_PATH}/eu-west-1/AWSReservedSSO_S3AccessAdmin_9999aaaabbbbcccc`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci-deployer`;
const FOREIGN_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/partner`;
const DATA_ROLE_PATTERN = `${SSO_PATH}/*AWSReservedSSO_S3Access_*`;
const ADMIN_ROLE_PATTERN = `${SSO_PATH}/*AWSReservedSSO_AdministratorAccess_*`;

const BUCKET = "arn:aws:s3:::keyturn-data";
const OBJECT = `${BUCKET}/reports/2024/q1.csv`;

type Statement = Record<string, unknown>;

const role = (arn: string): Principal => ({ type: "AWS", arn, accountId: arn.split(":")[4] ?? "" });
const anonymous: Principal = { type: "Anonymous" };

const identity = (...statements: Statement[]): PolicyInput => ({
  kind: "identity",
  name: "identity",
  document: { Version: "2012-10-17", Statement: statements },
});
const bucket = (...statements: Statement[]): PolicyInput => ({
  kind: "resource",
  name: "bucket",
  document: { Version: "2012-10-17", Statement: statements },
});

/** Data-role GetObject over TLS unless overridden; a context entry set to `undefined` removes that key. */
function request(
  overrides: {
    principal?: Principal;
    action?: string;
    resource?: string;
    context?: Record<string, ContextValue | undefined>;
  } = {},
): AuthorizationRequest {
  const principal = overrides.principal ?? role(DATA_ROLE);
  return {
    principal,
    action: overrides.action ?? "s3:GetObject",
    resource: overrides.resource ?? OBJECT,
    context: {
      ...(principal.type === "AWS"
        ? { "aws:PrincipalArn": principal.arn, "aws:PrincipalAccount": principal.accountId }
        : {}),
      "aws:SecureTransport": "true",
      ...overrides.context,
    },
  };
}

const allowRead = (extra: Statement = {}): Statement => ({
  Sid: "AllowRead",
  Effect: "Allow",
  Action: "s3:GetObject",
  Resource: `${BUCKET}/*`,
  ...extra,
});
const bucketAllowRead = (extra: Statement = {}): Statement =>
  allowRead({ Principal: { AWS: "*" }, ...extra });
const bucketDenyRead = (extra: Statement = {}): Statement => ({
  Sid: "DenyRead",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: `${BUCKET}/*`,
  ...extra,
});
const when = (condition: Record<string, Record<string, unknown>>): Statement => ({ Condition: condition });

type Case = {
  name: string;
  policies: PolicyInput[];
  request: AuthorizationRequest;
  expected: Evaluation["decision"];
  sids?: string[];
};

const cases: Case[] = [
  // Combining identity and resource policies (same account).
  {
    name: "no policies at all is an implicit deny",
    policies: [],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "an identity Allow alone suffices in the same account",
    policies: [identity(allowRead())],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead"],
  },
  {
    name: "a resource Allow alone suffices in the same account",
    policies: [bucket(bucketAllowRead())],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead"],
  },
  {
    name: "a resource Deny beats an identity Allow",
    policies: [identity(allowRead()), bucket(bucketDenyRead())],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["DenyRead"],
  },
  {
    name: "an identity Deny beats a resource Allow",
    policies: [identity({ ...allowRead(), Sid: "IdentityDeny", Effect: "Deny" }), bucket(bucketAllowRead())],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["IdentityDeny"],
  },
  {
    name: "every matching Deny is reported",
    policies: [
      bucket(bucketDenyRead(), bucketDenyRead({ Sid: "DenyAll", Action: "s3:*" }), bucketAllowRead()),
    ],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["DenyRead", "DenyAll"],
  },
  {
    name: "every matching Allow is reported",
    policies: [identity(allowRead()), bucket(bucketAllowRead({ Sid: "BucketRead" }))],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead", "BucketRead"],
  },
  {
    name: "an Allow for another action does not apply",
    policies: [identity(allowRead({ Action: "s3:PutObject" }))],
    request: request(),
    expected: "ImplicitDeny",
  },

  // Principal and NotPrincipal.
  {
    name: 'Principal "*" includes anonymous callers',
    policies: [bucket(allowRead({ Principal: "*" }))],
    request: request({ principal: anonymous }),
    expected: "Allow",
  },
  {
    name: 'Principal {"AWS":"*"} excludes anonymous callers',
    policies: [bucket(bucketAllowRead())],
    request: request({ principal: anonymous }),
    expected: "ImplicitDeny",
  },
  {
    name: 'Principal {"AWS":"*"} covers a principal of any account',
    policies: [bucket(bucketAllowRead())],
    request: request({ principal: role(FOREIGN_ROLE) }),
    expected: "Allow",
  },
  {
    name: "an account id covers every principal of that account",
    policies: [bucket(allowRead({ Principal: { AWS: ACCOUNT } }))],
    request: request({ principal: role(OTHER_ROLE) }),
    expected: "Allow",
  },
  {
    name: "an account id does not cover another account",
    policies: [bucket(allowRead({ Principal: { AWS: OTHER_ACCOUNT } }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "the account root ARN covers every principal of that account",
    policies: [bucket(allowRead({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "an exact role ARN matches that role",
    policies: [bucket(allowRead({ Principal: { AWS: [OTHER_ROLE, DATA_ROLE] } }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "an exact role ARN does not match another role of the account",
    policies: [bucket(allowRead({ Principal: { AWS: DATA_ROLE } }))],
    request: request({ principal: role(ADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "a Service principal never matches an IAM role",
    policies: [bucket(allowRead({ Principal: { Service: "s3.amazonaws.com" } }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny with NotPrincipal spares the listed role",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Principal: undefined, NotPrincipal: { AWS: DATA_ROLE } })),
    ],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a Deny with NotPrincipal hits everyone else",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Principal: undefined, NotPrincipal: { AWS: DATA_ROLE } })),
    ],
    request: request({ principal: role(ADMIN_ROLE) }),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming an account still hits anonymous callers",
    policies: [
      bucket(
        allowRead({ Principal: "*" }),
        bucketDenyRead({ Principal: undefined, NotPrincipal: { AWS: ACCOUNT } }),
      ),
    ],
    request: request({ principal: anonymous }),
    expected: "ExplicitDeny",
    sids: ["DenyRead"],
  },

  // Action and NotAction.
  {
    name: "NotAction allows what it does not list",
    policies: [identity(allowRead({ Action: undefined, NotAction: ["s3:Delete*", "s3:Put*"] }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "NotAction does not allow what it lists",
    policies: [identity(allowRead({ Action: undefined, NotAction: ["s3:Delete*", "s3:Put*"] }))],
    request: request({ action: "s3:DeleteObject" }),
    expected: "ImplicitDeny",
  },
  {
    name: "actions compare case-insensitively",
    policies: [identity(allowRead({ Action: "S3:getobject" }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "action wildcards: * and ? within the service prefix",
    policies: [identity(allowRead({ Action: ["s3:List*", "s3:?etObj*"] }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "an action wildcard does not match a different verb",
    policies: [identity(allowRead({ Action: "s3:Get*" }))],
    request: request({ action: "s3:PutObject" }),
    expected: "ImplicitDeny",
  },

  // Resource and NotResource.
  {
    name: "resources compare case-sensitively",
    policies: [identity(allowRead({ Resource: "arn:aws:s3:::Keyturn-Data/*" }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a resource * spans '/'",
    policies: [identity(allowRead({ Resource: `${BUCKET}/reports/*.csv` }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a resource ? matches exactly one character",
    policies: [identity(allowRead({ Resource: `${BUCKET}/reports/2024/q?.csv` }))],
    request: request({ resource: `${BUCKET}/reports/2024/q10.csv` }),
    expected: "ImplicitDeny",
  },
  {
    name: "the bucket ARN does not cover its objects",
    policies: [identity(allowRead({ Resource: BUCKET }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny with NotResource hits objects outside the listed prefix",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Resource: undefined, NotResource: `${BUCKET}/public/*` })),
    ],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "a Deny with NotResource spares objects under the listed prefix",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Resource: undefined, NotResource: `${BUCKET}/public/*` })),
    ],
    request: request({ resource: `${BUCKET}/public/logo.png` }),
    expected: "Allow",
  },
  {
    name: "policy variables are substituted in Resource",
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username}/*` }))],
    request: request({ resource: `${BUCKET}/home/alice/notes.txt`, context: { "aws:username": "alice" } }),
    expected: "Allow",
  },
  {
    name: "a substituted value cannot act as a wildcard",
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username}/*` }))],
    request: request({ resource: `${BUCKET}/home/alice/notes.txt`, context: { "aws:username": "*" } }),
    expected: "ImplicitDeny",
  },

  // ARN and string patterns.
  {
    name: "ArnLike * spans '/' and matches the role with a region segment",
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnLike matches the us-east-1 role without a region segment",
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: role(DATA_ROLE_US_EAST_1) }),
    expected: "Allow",
  },
  {
    name: "ArnLike for S3Access does not match the AdministratorAccess role",
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: role(ADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "ArnLike for S3Access_ does not match a set named S3AccessAdmin",
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: role(S3_ACCESSADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    // The prefix trap: set names may contain "_", so S3Access_* also covers the set S3Access_Admin.
    // The generator must not rely on this pattern alone when such names can exist.
    name: "PREFIX TRAP: ArnLike S3Access_* DOES match the set S3Access_Admin",
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: role(S3_ACCESS_ADMIN_ROLE) }),
    expected: "Allow",
  },
  {
    name: "sixteen ? for the role suffix avoid the prefix trap",
    policies: [
      bucket(
        bucketAllowRead(
          when({ ArnLike: { "aws:PrincipalArn": `${SSO_PATH}/*AWSReservedSSO_S3Access_${"?".repeat(16)}` } }),
        ),
      ),
    ],
    request: request({ principal: role(S3_ACCESS_ADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "ArnLike compares segments, so a pattern of fewer than six segments matches nothing",
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*" } })))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "StringLike on the same text is a plain wildcard and does match",
    policies: [bucket(bucketAllowRead(when({ StringLike: { "aws:PrincipalArn": "arn:aws:iam::*" } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnEquals accepts wildcards like ArnLike",
    policies: [bucket(bucketAllowRead(when({ ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::*:role/*` } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnNotLike with the key missing holds, so the Deny applies",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ ArnNotLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } }))),
    ],
    request: request({ context: { "aws:PrincipalArn": undefined } }),
    expected: "ExplicitDeny",
  },

  // Missing keys, IfExists and Null.
  {
    name: "StringEquals with the key missing is false",
    policies: [identity(allowRead(when({ StringEquals: { "s3:prefix": "reports/" } })))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "StringEqualsIfExists with the key missing holds",
    policies: [identity(allowRead(when({ StringEqualsIfExists: { "s3:prefix": "reports/" } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "StringEqualsIfExists with the key present still compares",
    policies: [identity(allowRead(when({ StringEqualsIfExists: { "s3:prefix": "reports/" } })))],
    request: request({ context: { "s3:prefix": "secrets/" } }),
    expected: "ImplicitDeny",
  },
  {
    name: 'Null "true" holds when the key is absent',
    policies: [identity(allowRead()), bucket(bucketDenyRead(when({ Null: { "aws:userid": "true" } })))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: 'Null "false" holds when the key is present',
    policies: [identity(allowRead(when({ Null: { "aws:userid": "false" } })))],
    request: request({ context: { "aws:userid": "AROAEXAMPLE:alice" } }),
    expected: "Allow",
  },
  {
    name: "condition keys are looked up case-insensitively",
    policies: [identity(allowRead(when({ StringEquals: { "IDENTITYSTORE:USERID": "u-123" } })))],
    request: request({ context: { "identitystore:userId": "u-123" } }),
    expected: "Allow",
  },

  // Bool and the encryption header.
  {
    name: 'Bool aws:SecureTransport "false" denies plain HTTP',
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ Bool: { "aws:SecureTransport": "false" } }))),
    ],
    request: request({ context: { "aws:SecureTransport": "false" } }),
    expected: "ExplicitDeny",
  },
  {
    name: 'Bool aws:SecureTransport "false" spares TLS',
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ Bool: { "aws:SecureTransport": false } }))),
    ],
    request: request(),
    expected: "Allow",
  },
  {
    name: "StringNotEquals with the SSE header absent holds, so the Deny applies",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } }))),
    ],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "StringNotEquals with SSE AES256 holds, so the Deny applies",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } }))),
    ],
    request: request({ context: { "s3:x-amz-server-side-encryption": "AES256" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "StringNotEquals with SSE aws:kms does not hold",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } }))),
    ],
    request: request({ context: { "s3:x-amz-server-side-encryption": "aws:kms" } }),
    expected: "Allow",
  },

  // Set qualifiers and multi-valued keys.
  {
    name: "ForAnyValue with the key missing is false",
    policies: [identity(allowRead(when({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } })))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAnyValue with an empty key is false",
    policies: [identity(allowRead(when({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } })))],
    request: request({ context: { "aws:TagKeys": [] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAnyValue holds when one of several request values matches",
    policies: [identity(allowRead(when({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } })))],
    request: request({ context: { "aws:TagKeys": ["owner", "team"] } }),
    expected: "Allow",
  },
  {
    name: "ForAllValues with the key missing holds",
    policies: [
      identity(allowRead(when({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } }))),
    ],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ForAllValues with an empty key holds",
    policies: [
      identity(allowRead(when({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } }))),
    ],
    request: request({ context: { "aws:TagKeys": [] } }),
    expected: "Allow",
  },
  {
    name: "ForAllValues fails when one request value is not listed",
    policies: [
      identity(allowRead(when({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } }))),
    ],
    request: request({ context: { "aws:TagKeys": ["team", "cost-centre"] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAllValues holds when every request value is listed",
    policies: [
      identity(allowRead(when({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } }))),
    ],
    request: request({ context: { "aws:TagKeys": ["owner", "team"] } }),
    expected: "Allow",
  },
  {
    name: "ForAllValues with a negated operator needs every request value to match none",
    policies: [identity(allowRead(when({ "ForAllValues:StringNotLike": { "aws:TagKeys": ["secret*"] } })))],
    request: request({ context: { "aws:TagKeys": ["team", "secret-level"] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "without a set qualifier a multi-valued key matches if any value matches",
    policies: [identity(allowRead(when({ StringEquals: { "aws:TagKeys": "team" } })))],
    request: request({ context: { "aws:TagKeys": ["owner", "team"] } }),
    expected: "Allow",
  },

  // Several values, keys and operators.
  {
    name: "several values of one key are ORed",
    policies: [
      identity(allowRead(when({ StringEquals: { "identitystore:userId": ["u-1", "u-2", "u-3"] } }))),
    ],
    request: request({ context: { "identitystore:userId": "u-2" } }),
    expected: "Allow",
  },
  {
    name: "several keys of one operator are ANDed",
    policies: [
      identity(
        allowRead(
          when({ StringEquals: { "identitystore:userId": "u-2", "aws:PrincipalAccount": OTHER_ACCOUNT } }),
        ),
      ),
    ],
    request: request({ context: { "identitystore:userId": "u-2" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "several operators are ANDed",
    policies: [
      identity(
        allowRead(
          when({ StringEquals: { "identitystore:userId": "u-2" }, Bool: { "aws:SecureTransport": "true" } }),
        ),
      ),
    ],
    request: request({ context: { "identitystore:userId": "u-2", "aws:SecureTransport": "false" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "a negated operator holds when the value matches none of several",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ StringNotEquals: { "aws:userid": ["a", "b"] } }))),
    ],
    request: request({ context: { "aws:userid": "c" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "a negated operator fails when the value matches one of several",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ StringNotEquals: { "aws:userid": ["a", "b"] } }))),
    ],
    request: request({ context: { "aws:userid": "b" } }),
    expected: "Allow",
  },
  {
    name: "StringEqualsIgnoreCase ignores case",
    policies: [identity(allowRead(when({ StringEqualsIgnoreCase: { "aws:username": "ALICE" } })))],
    request: request({ context: { "aws:username": "alice" } }),
    expected: "Allow",
  },
  {
    name: "policy variables are substituted in condition values",
    policies: [identity(allowRead(when({ StringLike: { "s3:prefix": `home/\${aws:username}/*` } })))],
    request: request({ context: { "aws:username": "alice", "s3:prefix": "home/alice/docs/" } }),
    expected: "Allow",
  },

  // Numbers, dates and addresses.
  {
    name: "NumericLessThan holds for a smaller number",
    policies: [identity(allowRead(when({ NumericLessThan: { "s3:max-keys": 100 } })))],
    request: request({ context: { "s3:max-keys": "50" } }),
    expected: "Allow",
  },
  {
    name: "NumericLessThan fails for a larger number",
    policies: [identity(allowRead(when({ NumericLessThan: { "s3:max-keys": "100" } })))],
    request: request({ context: { "s3:max-keys": "500" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "NumericEquals fails for a value that is not a number",
    policies: [identity(allowRead(when({ NumericEquals: { "s3:max-keys": "0" } })))],
    request: request({ context: { "s3:max-keys": "" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "DateLessThan holds before an ISO 8601 deadline",
    policies: [identity(allowRead(when({ DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })))],
    request: request({ context: { "aws:CurrentTime": "2029-12-31T23:59:59Z" } }),
    expected: "Allow",
  },
  {
    name: "DateGreaterThan compares epoch seconds with ISO 8601",
    policies: [identity(allowRead(when({ DateGreaterThan: { "aws:EpochTime": "2030-01-01T00:00:00Z" } })))],
    request: request({ context: { "aws:EpochTime": String(Date.UTC(2029, 11, 31) / 1000) } }),
    expected: "ImplicitDeny",
  },
  {
    name: "IpAddress holds inside the CIDR block",
    policies: [
      identity(allowRead(when({ IpAddress: { "aws:SourceIp": ["198.51.100.0/24", "203.0.113.0/28"] } }))),
    ],
    request: request({ context: { "aws:SourceIp": "203.0.113.9" } }),
    expected: "Allow",
  },
  {
    name: "NotIpAddress holds outside the CIDR block, so the Deny applies",
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead(when({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }))),
    ],
    request: request({ context: { "aws:SourceIp": "11.0.0.1" } }),
    expected: "ExplicitDeny",
  },
];

// The k9 bucket policy as Keyturn generates it, with the per-capability denies that keep listed
// administrators (who hold AdministratorAccess in their identity policy) away from the data.
const READ_DATA = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"];
const WRITE_DATA = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectTagging"];
const BOTH = [BUCKET, `${BUCKET}/*`];
const onlyFor = (pattern: string | string[]) => ({ ArnLike: { "aws:PrincipalArn": pattern } });
const exceptFor = (pattern: string | string[]) => ({ ArnNotLike: { "aws:PrincipalArn": pattern } });
const k9Bucket = bucket(
  {
    Sid: "AllowRestrictedAdministerResource",
    Effect: "Allow",
    Principal: { AWS: "*" },
    Action: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
    Resource: BOTH,
    Condition: onlyFor(ADMIN_ROLE_PATTERN),
  },
  {
    Sid: "AllowRestrictedReadData",
    Effect: "Allow",
    Principal: { AWS: "*" },
    Action: READ_DATA,
    Resource: BOTH,
    Condition: onlyFor(DATA_ROLE_PATTERN),
  },
  {
    Sid: "AllowRestrictedWriteData",
    Effect: "Allow",
    Principal: { AWS: "*" },
    Action: WRITE_DATA,
    Resource: BOTH,
    Condition: onlyFor(DATA_ROLE_PATTERN),
  },
  {
    Sid: "DenyReadDataToOthers",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: READ_DATA,
    Resource: BOTH,
    Condition: exceptFor(DATA_ROLE_PATTERN),
  },
  {
    Sid: "DenyWriteDataToOthers",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: WRITE_DATA,
    Resource: BOTH,
    Condition: exceptFor(DATA_ROLE_PATTERN),
  },
  {
    Sid: "DenyEveryoneElse",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:*",
    Resource: BOTH,
    Condition: exceptFor([ADMIN_ROLE_PATTERN, DATA_ROLE_PATTERN]),
  },
  {
    Sid: "DenyInsecureCommunications",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:*",
    Resource: BOTH,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  },
  {
    Sid: "DenyUnencryptedStorage",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:PutObject",
    Resource: `${BUCKET}/*`,
    Condition: { Null: { "s3:x-amz-server-side-encryption": "true" } },
  },
  {
    Sid: "DenyStorageWithoutKMSEncryption",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:PutObject",
    Resource: `${BUCKET}/*`,
    Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
  },
);
const administratorAccess = identity({
  Sid: "AdministratorAccess",
  Effect: "Allow",
  Action: "*",
  Resource: "*",
});
const viewOnly = identity({
  Sid: "ViewOnly",
  Effect: "Allow",
  Action: ["s3:ListAllMyBuckets", "s3:GetBucket*"],
  Resource: "*",
});

const k9Cases: Case[] = [
  {
    name: "an administrator with AdministratorAccess cannot read the data",
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: role(ADMIN_ROLE) }),
    expected: "ExplicitDeny",
    sids: ["DenyReadDataToOthers"],
  },
  {
    name: "an administrator can still administer the bucket",
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: role(ADMIN_ROLE), action: "s3:PutBucketPolicy", resource: BUCKET }),
    expected: "Allow",
    sids: ["AdministratorAccess", "AllowRestrictedAdministerResource"],
  },
  {
    name: "the data role reads through the bucket policy alone",
    policies: [viewOnly, k9Bucket],
    request: request(),
    expected: "Allow",
    sids: ["AllowRestrictedReadData"],
  },
  {
    name: "the us-east-1 data role reads too",
    policies: [viewOnly, k9Bucket],
    request: request({ principal: role(DATA_ROLE_US_EAST_1) }),
    expected: "Allow",
  },
  {
    name: "the data role over plain HTTP is denied",
    policies: [viewOnly, k9Bucket],
    request: request({ context: { "aws:SecureTransport": "false" } }),
    expected: "ExplicitDeny",
    sids: ["DenyInsecureCommunications"],
  },
  {
    name: "PutObject without server-side encryption is denied",
    policies: [viewOnly, k9Bucket],
    request: request({ action: "s3:PutObject" }),
    expected: "ExplicitDeny",
    sids: ["DenyUnencryptedStorage", "DenyStorageWithoutKMSEncryption"],
  },
  {
    name: "PutObject with AES256 is denied",
    policies: [viewOnly, k9Bucket],
    request: request({ action: "s3:PutObject", context: { "s3:x-amz-server-side-encryption": "AES256" } }),
    expected: "ExplicitDeny",
    sids: ["DenyStorageWithoutKMSEncryption"],
  },
  {
    name: "PutObject with aws:kms is allowed",
    policies: [viewOnly, k9Bucket],
    request: request({ action: "s3:PutObject", context: { "s3:x-amz-server-side-encryption": "aws:kms" } }),
    expected: "Allow",
    sids: ["AllowRestrictedWriteData"],
  },
  {
    name: "another role of the account with AdministratorAccess hits DenyEveryoneElse",
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: role(OTHER_ROLE), action: "s3:GetBucketPolicy", resource: BUCKET }),
    expected: "ExplicitDeny",
    sids: ["DenyEveryoneElse"],
  },
  {
    name: "a caller without aws:PrincipalArn (anonymous) gets no access",
    policies: [k9Bucket],
    request: request({ principal: anonymous }),
    expected: "ImplicitDeny",
  },
];

function check({ policies, request: req, expected, sids }: Case): void {
  const result = evaluate(req, policies);
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  expect(result.evaluation.decision).toBe(expected);
  if (sids !== undefined) {
    expect(result.evaluation.decidedBy.map((ref) => ref.sid)).toEqual(sids);
  }
}

describe("evaluate", () => {
  it.each(cases)("$name", check);

  describe("k9-style bucket policy", () => {
    it.each(k9Cases)("$name", check);
  });

  it("names the deciding statements by Sid, or by policy and index", () => {
    const result = evaluate(request(), [
      identity({ Effect: "Allow", Action: "s3:*", Resource: "*" }),
      bucket(bucketAllowRead()),
    ]);
    expect(result).toEqual({
      ok: true,
      evaluation: {
        decision: "Allow",
        decidedBy: [
          { policy: "identity", kind: "identity", index: 0, effect: "Allow" },
          { policy: "bucket", kind: "resource", index: 0, sid: "AllowRead", effect: "Allow" },
        ],
        explanation: 'Allowed by identity Statement[0] and "AllowRead" (bucket); no Deny matched.',
      },
    });
  });

  it("explains an implicit deny with the request", () => {
    const result = evaluate(request({ principal: anonymous }), []);
    expect(result.ok && result.evaluation.explanation).toBe(
      `Implicitly denied: no statement allows s3:GetObject on ${OBJECT} for an anonymous caller.`,
    );
  });

  it("rejects an unknown condition operator instead of ignoring it", () => {
    const result = evaluate(request(), [
      bucket(bucketDenyRead(when({ StringEqualz: { "aws:userid": "x" } }))),
    ]);
    expect(result).toEqual({
      ok: false,
      error: {
        code: "INVALID_POLICY",
        message: "bucket: Statement[0].Condition.StringEqualz is not a known condition operator",
        policy: "bucket",
        path: "Statement[0].Condition.StringEqualz",
      },
    });
  });

  it("requires a Principal in resource policies and forbids it in identity policies", () => {
    expect(evaluate(request(), [bucket(allowRead())])).toMatchObject({
      ok: false,
      error: { path: "Statement[0]" },
    });
    expect(evaluate(request(), [identity(bucketAllowRead())])).toMatchObject({
      ok: false,
      error: { path: "Statement[0].Principal" },
    });
  });

  it("accepts the policy as JSON text, as S3 stores it", () => {
    const result = evaluate(request(), [
      { kind: "resource", name: "bucket", document: JSON.stringify({ Statement: bucketAllowRead() }) },
    ]);
    expect(result.ok && result.evaluation.decision).toBe("Allow");
  });

  it("takes policy variables literally in version 2008-10-17 documents", () => {
    const document = {
      Version: "2008-10-17",
      Statement: allowRead({ Resource: `${BUCKET}/\${aws:username}` }),
    };
    const literal = request({ resource: `${BUCKET}/\${aws:username}`, context: { "aws:username": "alice" } });
    expect(evaluate(literal, [{ kind: "identity", name: "old", document }])).toMatchObject({
      ok: true,
      evaluation: { decision: "Allow" },
    });
  });
});
