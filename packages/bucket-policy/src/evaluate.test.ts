import { describe, expect, it } from "vitest";
import { CONDITION_OPERATORS } from "./conditions.js";
import {
  type AuthorizationRequest,
  type ContextValue,
  type Evaluation,
  evaluate,
  type PolicyInput,
  type Principal,
} from "./evaluate.js";

// The evaluator's rules as AWS documents them: every case names the page and the section it comes
// from, and a case whose outcome the documentation leaves open expects "Undetermined" with the
// reason. Pages are the IAM User Guide ("IAM"), the Amazon S3 User Guide ("S3") and the Amazon S3
// API Reference ("S3 API"); see also shared/reference/aws-and-k9.md sections 5 and 8.
const DOC = {
  evaluation:
    'IAM "Policy evaluation logic" > "Determining whether a request is allowed or denied within an account"',
  identityAndResource:
    'IAM "Policy evaluation logic" > "Evaluating identity-based policies with resource-based policies"',
  resourcePolicyPrincipals: 'IAM "Policy evaluation logic" > "Resource-based policies" (same account)',
  crossAccount: 'IAM "Cross-account policy evaluation logic"',
  s3Authorization: 'S3 "How Amazon S3 authorizes a request" > user context and bucket context',
  allPrincipals: 'IAM "AWS JSON policy elements: Principal" > "All principals"',
  s3Anonymous: 'S3 "Principals" > "Grant anonymous permissions"',
  accountPrincipals: 'IAM "AWS JSON policy elements: Principal" > "AWS account principals"',
  rolePrincipals: 'IAM "AWS JSON policy elements: Principal" > "IAM role principals"',
  sessionPrincipals:
    'IAM "AWS JSON policy elements: Principal" > "Role session principals" > "Assumed-role session principals"',
  userPrincipals: 'IAM "AWS JSON policy elements: Principal" > "IAM user principals"',
  servicePrincipals: 'IAM "AWS JSON policy elements: Principal" > "AWS service principals"',
  canonicalUser: 'S3 "Principals" > "Grant permissions to an AWS account" (canonical user ID)',
  principalList: 'IAM "AWS JSON policy elements: Principal" > "Specifying a principal" (a logical OR)',
  notPrincipalDeny: 'IAM "AWS JSON policy elements: NotPrincipal" > "NotPrincipal with Deny"',
  notPrincipalAllow:
    'IAM "AWS JSON policy elements: NotPrincipal" (NotPrincipal with Allow is not supported)',
  action: 'IAM "AWS JSON policy elements: Action"',
  notAction: 'IAM "AWS JSON policy elements: NotAction"',
  resource: 'IAM "AWS JSON policy elements: Resource" > "Including wildcard characters in resource ARNs"',
  notResource: 'IAM "AWS JSON policy elements: NotResource"',
  conditionBlock:
    'IAM "AWS JSON policy elements: Condition" > "The condition block" (ANDed keys, ORed values)',
  missingKey: 'IAM "Condition operators" (introduction: a key not in the request context)',
  string: 'IAM "Condition operators" > "String condition operators"',
  numeric: 'IAM "Condition operators" > "Numeric condition operators"',
  date: 'IAM "Condition operators" > "Date condition operators"',
  bool: 'IAM "Condition operators" > "Boolean condition operators"',
  binary: 'IAM "Condition operators" > "Binary condition operators"',
  ip: 'IAM "Condition operators" > "IP address condition operators"',
  arn: 'IAM "Condition operators" > "Amazon Resource Name (ARN) condition operators"',
  ifExists: 'IAM "Condition operators" > "...IfExists condition operators"',
  nullCheck: 'IAM "Condition operators" > "Condition operator to check existence of condition keys"',
  setOperators: 'IAM "Set operators for multivalued context keys" (ForAnyValue, ForAllValues)',
  keyCase:
    'IAM "Policy variables" > "Information available in all requests" (key names are case-insensitive)',
  variables: 'IAM "Policy elements: Variables and tags" > "Where you can use policy variables"',
  variableNoValue:
    'IAM "Policy elements: Variables and tags" (note: an unresolved variable "might cause the entire statement to be invalid")',
  variableDefault: 'IAM "Policy elements: Variables and tags" > "Specifying default values"',
  version: 'IAM "AWS JSON policy elements: Version"',
  s3Sse: 'S3 API "PutObject" > x-amz-server-side-encryption and x-amz-server-side-encryption-aws-kms-key-id',
  s3Multipart: 'S3 "Multipart upload API and permissions" (every part is authorized as s3:PutObject)',
  s3Lockout: 'S3 API "PutBucketPolicy" / "DeleteBucketPolicy" (root of the bucket owner account)',
} as const;
type Doc = (typeof DOC)[keyof typeof DOC];

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
const USER_BOB = `arn:aws:iam::${ACCOUNT}:user/Bob`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const OTHER_ROOT = `arn:aws:iam::${OTHER_ACCOUNT}:root`;
const DATA_ROLE_PATTERN = `${SSO_PATH}/*AWSReservedSSO_S3Access_*`;
const ADMIN_ROLE_PATTERN = `${SSO_PATH}/*AWSReservedSSO_AdministratorAccess_*`;
const CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const FOREIGN_KEY = `arn:aws:kms:eu-west-1:${OTHER_ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;

const BUCKET = "arn:aws:s3:::keyturn-data";
const OBJECT = `${BUCKET}/reports/2024/q1.csv`;

type Statement = Record<string, unknown>;

/** A session of the role, as Identity Center hands them out (the session name is the user's). */
const session = (roleArn: string, name = "alice"): Principal => {
  const accountId = roleArn.split(":")[4] ?? "";
  const roleName = roleArn.split("/").at(-1) ?? "";
  return {
    type: "AWS",
    arn: roleArn,
    accountId,
    sessionArn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${name}`,
  };
};
const sessionArnOf = (roleArn: string, name = "alice"): string => {
  const caller = session(roleArn, name);
  return caller.type === "AWS" ? (caller.sessionArn ?? "") : "";
};
const user = (arn: string): Principal => ({ type: "AWS", arn, accountId: arn.split(":")[4] ?? "" });
const root = (accountId = ACCOUNT): Principal & { type: "AWS" } => ({
  type: "AWS",
  arn: `arn:aws:iam::${accountId}:root`,
  accountId,
});
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

/** A data-role session's GetObject over TLS unless overridden; a context entry set to `undefined` removes that key. */
function request(
  overrides: {
    principal?: Principal;
    action?: string;
    resource?: string;
    resourceAccount?: string;
    context?: Record<string, ContextValue | undefined>;
  } = {},
): AuthorizationRequest {
  const principal = overrides.principal ?? session(DATA_ROLE);
  return {
    principal,
    action: overrides.action ?? "s3:GetObject",
    resource: overrides.resource ?? OBJECT,
    ...(overrides.resourceAccount === undefined ? {} : { resourceAccount: overrides.resourceAccount }),
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
/** An identity Allow conditioned on `condition`: the case is Allow iff the condition holds. */
const allowIf = (condition: Record<string, Record<string, unknown>>) => identity(allowRead(when(condition)));
/** Allowed by the identity policy, denied when `condition` holds: ExplicitDeny iff it holds. */
const denyIf = (condition: Record<string, Record<string, unknown>>) => [
  identity(allowRead()),
  bucket(bucketDenyRead(when(condition))),
];
const notPrincipalDeny = (...listed: string[]) =>
  bucketDenyRead({ Principal: undefined, NotPrincipal: { AWS: listed } });

type Case = {
  name: string;
  doc: Doc;
  policies: PolicyInput[];
  request: AuthorizationRequest;
  expected: Evaluation["decision"];
  sids?: string[];
  /** For Undetermined: a phrase the reason must contain. */
  reason?: string;
};

const evaluationCases: Case[] = [
  {
    name: "no policies at all is an implicit deny",
    doc: DOC.evaluation,
    policies: [],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "an identity Allow alone suffices in the same account",
    doc: DOC.identityAndResource,
    policies: [identity(allowRead())],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead"],
  },
  {
    name: "a resource Allow naming everyone suffices in the same account",
    doc: DOC.identityAndResource,
    policies: [bucket(bucketAllowRead())],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead"],
  },
  {
    name: "a resource Deny beats an identity Allow",
    doc: DOC.evaluation,
    policies: [identity(allowRead()), bucket(bucketDenyRead())],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["DenyRead"],
  },
  {
    name: "an identity Deny beats a resource Allow",
    doc: DOC.evaluation,
    policies: [identity({ ...allowRead(), Sid: "IdentityDeny", Effect: "Deny" }), bucket(bucketAllowRead())],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["IdentityDeny"],
  },
  {
    name: "every matching Deny is reported",
    doc: DOC.evaluation,
    policies: [
      bucket(bucketDenyRead(), bucketDenyRead({ Sid: "DenyAll", Action: "s3:*" }), bucketAllowRead()),
    ],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["DenyRead", "DenyAll"],
  },
  {
    name: "every matching Allow is reported",
    doc: DOC.identityAndResource,
    policies: [identity(allowRead()), bucket(bucketAllowRead({ Sid: "BucketRead" }))],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead", "BucketRead"],
  },
  {
    name: "an Allow for another action does not apply",
    doc: DOC.evaluation,
    policies: [identity(allowRead({ Action: "s3:PutObject" }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny for another action does not take away an Allow",
    doc: DOC.evaluation,
    policies: [identity(allowRead()), bucket(bucketDenyRead({ Action: "s3:DeleteObject" }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "across accounts an identity Allow alone is not enough",
    doc: DOC.crossAccount,
    policies: [identity(allowRead())],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "ImplicitDeny",
  },
  {
    name: "across accounts a bucket Allow alone is not enough",
    doc: DOC.crossAccount,
    policies: [bucket(bucketAllowRead())],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "ImplicitDeny",
  },
  {
    name: "across accounts the identity and the bucket policy together allow",
    doc: DOC.crossAccount,
    policies: [identity(allowRead()), bucket(bucketAllowRead({ Sid: "BucketRead" }))],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "Allow",
    sids: ["AllowRead", "BucketRead"],
  },
  {
    name: "across accounts a Deny in either policy still wins",
    doc: DOC.crossAccount,
    policies: [identity(allowRead()), bucket(bucketAllowRead(), bucketDenyRead())],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "ExplicitDeny",
    sids: ["DenyRead"],
  },
  {
    name: "an anonymous caller has no identity policy: the bucket policy alone decides",
    doc: DOC.s3Authorization,
    policies: [identity(allowRead()), bucket(bucketAllowRead({ Principal: "*" }))],
    request: request({ principal: anonymous }),
    expected: "Allow",
    sids: ["AllowRead"],
  },
  {
    name: "an anonymous caller is not helped by an identity policy",
    doc: DOC.s3Authorization,
    policies: [identity(allowRead())],
    request: request({ principal: anonymous }),
    expected: "ImplicitDeny",
  },
  {
    name: "the root user is denied by a bucket-policy Deny like anyone else",
    doc: DOC.evaluation,
    policies: [identity(allowRead()), bucket(bucketDenyRead())],
    request: request({ principal: root() }),
    expected: "ExplicitDeny",
  },
];

const principalCases: Case[] = [
  {
    name: 'Principal "*" includes anonymous callers',
    doc: DOC.allPrincipals,
    policies: [bucket(allowRead({ Principal: "*" }))],
    request: request({ principal: anonymous }),
    expected: "Allow",
  },
  {
    name: 'Principal {"AWS":"*"} includes anonymous callers too: the two are equivalent',
    doc: DOC.allPrincipals,
    policies: [bucket(bucketAllowRead())],
    request: request({ principal: anonymous }),
    expected: "Allow",
  },
  {
    name: 'a Deny with {"AWS":"*"} denies anonymous callers',
    doc: DOC.s3Anonymous,
    policies: [bucket(allowRead({ Principal: "*" }), bucketDenyRead({ Principal: { AWS: "*" } }))],
    request: request({ principal: anonymous }),
    expected: "ExplicitDeny",
  },
  {
    name: 'Principal {"AWS":"*"} covers a session of any account (with its identity policy)',
    doc: DOC.allPrincipals,
    policies: [identity(allowRead()), bucket(bucketAllowRead())],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "Allow",
  },
  {
    name: "an account id in the same account delegates: without an identity Allow nothing is granted",
    doc: DOC.accountPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: ACCOUNT } }))],
    request: request({ principal: session(OTHER_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "the account root ARN delegates the same way",
    doc: DOC.accountPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: ROOT } }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "an account principal plus the identity Allow: allowed, decided by the identity policy",
    doc: DOC.accountPrincipals,
    policies: [identity(allowRead({ Sid: "IdentityRead" })), bucket(allowRead({ Principal: { AWS: ROOT } }))],
    request: request(),
    expected: "Allow",
    sids: ["IdentityRead"],
  },
  {
    name: "another account's principal named by account id needs its identity Allow",
    doc: DOC.accountPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: OTHER_ACCOUNT } }))],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "ImplicitDeny",
  },
  {
    name: "another account named by id, with the principal's identity Allow, is allowed",
    doc: DOC.crossAccount,
    policies: [
      identity(allowRead()),
      bucket(allowRead({ Sid: "Partner", Principal: { AWS: OTHER_ACCOUNT } })),
    ],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "Allow",
    sids: ["AllowRead", "Partner"],
  },
  {
    name: "an account id does not cover another account",
    doc: DOC.accountPrincipals,
    policies: [identity(allowRead()), bucket(allowRead({ Principal: { AWS: OTHER_ACCOUNT } }))],
    request: request({ principal: session("arn:aws:iam::999999999999:role/x"), resourceAccount: ACCOUNT }),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny naming the account denies every principal of it",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(bucketDenyRead({ Principal: { AWS: ACCOUNT } }))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "a role ARN names the role's sessions, granted directly",
    doc: DOC.rolePrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: [OTHER_ROLE, DATA_ROLE] } }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a role ARN does not match another role of the account",
    doc: DOC.rolePrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: DATA_ROLE } }))],
    request: request({ principal: session(ADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "an assumed-role session ARN matches that session",
    doc: DOC.sessionPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: sessionArnOf(DATA_ROLE, "alice") } }))],
    request: request({ principal: session(DATA_ROLE, "alice") }),
    expected: "Allow",
  },
  {
    name: "an assumed-role session ARN does not match another session of the role",
    doc: DOC.sessionPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: sessionArnOf(DATA_ROLE, "alice") } }))],
    request: request({ principal: session(DATA_ROLE, "bob") }),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny naming a session ARN refuses that session",
    doc: DOC.sessionPrincipals,
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Principal: { AWS: sessionArnOf(DATA_ROLE) } })),
    ],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "a Deny naming a session ARN spares the role's other sessions",
    doc: DOC.sessionPrincipals,
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Principal: { AWS: sessionArnOf(DATA_ROLE) } })),
    ],
    request: request({ principal: session(DATA_ROLE, "bob") }),
    expected: "Allow",
  },
  {
    name: "an IAM user ARN matches the user",
    doc: DOC.userPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: USER_BOB } }))],
    request: request({ principal: user(USER_BOB) }),
    expected: "Allow",
  },
  {
    name: "user ARNs are case-sensitive",
    doc: DOC.userPrincipals,
    policies: [bucket(allowRead({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` } }))],
    request: request({ principal: user(USER_BOB) }),
    expected: "ImplicitDeny",
  },
  {
    name: "several principals are ORed",
    doc: DOC.principalList,
    policies: [bucket(allowRead({ Principal: { AWS: [USER_BOB, sessionArnOf(DATA_ROLE)] } }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a Service principal never matches an IAM session",
    doc: DOC.servicePrincipals,
    policies: [bucket(allowRead({ Principal: { Service: "s3.amazonaws.com" } }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a CanonicalUser principal is the account whose canonical id it is (a delegation)",
    doc: DOC.canonicalUser,
    policies: [identity(allowRead()), bucket(bucketDenyRead({ Principal: { CanonicalUser: CANONICAL } }))],
    request: request({ principal: { ...root(), canonicalUserId: CANONICAL } }),
    expected: "ExplicitDeny",
  },
  {
    name: "a CanonicalUser principal when the caller's canonical id is unknown is undetermined",
    doc: DOC.canonicalUser,
    policies: [identity(allowRead()), bucket(bucketDenyRead({ Principal: { CanonicalUser: CANONICAL } }))],
    request: request(),
    expected: "Undetermined",
    reason: "canonical user id is not known",
  },
];

const notPrincipalCases: Case[] = [
  {
    name: "NotPrincipal naming account, role and session spares that session",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(ROOT, DATA_ROLE, sessionArnOf(DATA_ROLE)))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "NotPrincipal naming only the role still denies its sessions",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(DATA_ROLE))],
    request: request(),
    expected: "ExplicitDeny",
    sids: ["DenyRead"],
  },
  {
    name: "NotPrincipal naming only the account still denies the role's sessions",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(ROOT))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming the account id form and the role still denies the session",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(ACCOUNT, DATA_ROLE))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming role and session but not the account still denies",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(DATA_ROLE, sessionArnOf(DATA_ROLE)))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming the account and the session but not the role still denies",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(ROOT, sessionArnOf(DATA_ROLE)))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming another session of the role denies this one",
    doc: DOC.notPrincipalDeny,
    policies: [
      identity(allowRead()),
      bucket(notPrincipalDeny(ROOT, DATA_ROLE, sessionArnOf(DATA_ROLE, "bob"))),
    ],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming a user and the account spares that user",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(USER_BOB, ROOT))],
    request: request({ principal: user(USER_BOB) }),
    expected: "Allow",
  },
  {
    name: "NotPrincipal naming a user without the account denies the user",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(USER_BOB))],
    request: request({ principal: user(USER_BOB) }),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal naming the account spares its root user",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(ROOT))],
    request: request({ principal: root() }),
    expected: "Allow",
  },
  {
    name: "NotPrincipal naming an account still hits anonymous callers",
    doc: DOC.notPrincipalDeny,
    policies: [bucket(allowRead({ Principal: "*" }), notPrincipalDeny(ACCOUNT))],
    request: request({ principal: anonymous }),
    expected: "ExplicitDeny",
    sids: ["DenyRead"],
  },
  {
    name: "NotPrincipal naming another account denies this account's sessions",
    doc: DOC.notPrincipalDeny,
    policies: [identity(allowRead()), bucket(notPrincipalDeny(OTHER_ROOT, FOREIGN_ROLE))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NotPrincipal with Allow that does not exclude the caller is undetermined",
    doc: DOC.notPrincipalAllow,
    policies: [bucket(allowRead({ NotPrincipal: { AWS: USER_BOB } }))],
    request: request(),
    expected: "Undetermined",
    reason: "NotPrincipal with Allow",
  },
  {
    name: "NotPrincipal with Allow that lists the caller's whole chain grants it nothing",
    doc: DOC.notPrincipalAllow,
    policies: [bucket(allowRead({ NotPrincipal: { AWS: [ROOT, DATA_ROLE, sessionArnOf(DATA_ROLE)] } }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "an undetermined NotPrincipal Allow does not matter when an identity Allow already decides",
    doc: DOC.identityAndResource,
    policies: [identity(allowRead()), bucket(allowRead({ Sid: "Odd", NotPrincipal: { AWS: USER_BOB } }))],
    request: request(),
    expected: "Allow",
    sids: ["AllowRead"],
  },
];

const actionResourceCases: Case[] = [
  {
    name: "NotAction allows what it does not list",
    doc: DOC.notAction,
    policies: [identity(allowRead({ Action: undefined, NotAction: ["s3:Delete*", "s3:Put*"] }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "NotAction does not allow what it lists",
    doc: DOC.notAction,
    policies: [identity(allowRead({ Action: undefined, NotAction: ["s3:Delete*", "s3:Put*"] }))],
    request: request({ action: "s3:DeleteObject" }),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny with NotAction denies everything else",
    doc: DOC.notAction,
    policies: [identity(allowRead()), bucket(bucketDenyRead({ Action: undefined, NotAction: "s3:List*" }))],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "actions compare case-insensitively",
    doc: DOC.action,
    policies: [identity(allowRead({ Action: "S3:getobject" }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "action wildcards: * and ? within the service prefix",
    doc: DOC.action,
    policies: [identity(allowRead({ Action: ["s3:List*", "s3:?etObj*"] }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "an action wildcard does not match a different verb",
    doc: DOC.action,
    policies: [identity(allowRead({ Action: "s3:Get*" }))],
    request: request({ action: "s3:PutObject" }),
    expected: "ImplicitDeny",
  },
  {
    name: 'Action "*" covers every action',
    doc: DOC.action,
    policies: [identity(allowRead({ Action: "*" }))],
    request: request({ action: "s3:PutBucketPolicy", resource: `${BUCKET}/x` }),
    expected: "Allow",
  },
  {
    name: "an action of another service does not match",
    doc: DOC.action,
    policies: [identity(allowRead({ Action: "kms:*" }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "resources compare case-sensitively",
    doc: DOC.resource,
    policies: [identity(allowRead({ Resource: "arn:aws:s3:::Keyturn-Data/*" }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a resource * spans '/'",
    doc: DOC.resource,
    policies: [identity(allowRead({ Resource: `${BUCKET}/reports/*.csv` }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a resource ? matches exactly one character",
    doc: DOC.resource,
    policies: [identity(allowRead({ Resource: `${BUCKET}/reports/2024/q?.csv` }))],
    request: request({ resource: `${BUCKET}/reports/2024/q10.csv` }),
    expected: "ImplicitDeny",
  },
  {
    name: "the bucket ARN does not cover its objects",
    doc: DOC.resource,
    policies: [identity(allowRead({ Resource: BUCKET }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: 'Resource "*" covers every resource',
    doc: DOC.resource,
    policies: [identity(allowRead({ Resource: "*" }))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a Deny with NotResource hits objects outside the listed prefix",
    doc: DOC.notResource,
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Resource: undefined, NotResource: `${BUCKET}/public/*` })),
    ],
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "a Deny with NotResource spares objects under the listed prefix",
    doc: DOC.notResource,
    policies: [
      identity(allowRead()),
      bucket(bucketDenyRead({ Resource: undefined, NotResource: `${BUCKET}/public/*` })),
    ],
    request: request({ resource: `${BUCKET}/public/logo.png` }),
    expected: "Allow",
  },
  {
    name: "an Allow with NotResource allows what it does not list",
    doc: DOC.notResource,
    policies: [identity(allowRead({ Resource: undefined, NotResource: `${BUCKET}/secret/*` }))],
    request: request(),
    expected: "Allow",
  },
];

const conditionBasics: Case[] = [
  {
    name: "StringEquals with the key missing is false",
    doc: DOC.missingKey,
    policies: [allowIf({ StringEquals: { "s3:prefix": "reports/" } })],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a negated operator with the key missing is true, so the Deny applies",
    doc: DOC.missingKey,
    policies: denyIf({ ArnNotLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } }),
    request: request({ context: { "aws:PrincipalArn": undefined } }),
    expected: "ExplicitDeny",
  },
  {
    name: "several values of one key are ORed",
    doc: DOC.conditionBlock,
    policies: [allowIf({ StringEquals: { "identitystore:userId": ["u-1", "u-2", "u-3"] } })],
    request: request({ context: { "identitystore:userId": "u-2" } }),
    expected: "Allow",
  },
  {
    name: "several keys of one operator are ANDed",
    doc: DOC.conditionBlock,
    policies: [
      allowIf({ StringEquals: { "identitystore:userId": "u-2", "aws:PrincipalAccount": OTHER_ACCOUNT } }),
    ],
    request: request({ context: { "identitystore:userId": "u-2" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "several operators are ANDed",
    doc: DOC.conditionBlock,
    policies: [
      allowIf({ StringEquals: { "identitystore:userId": "u-2" }, Bool: { "aws:SecureTransport": "true" } }),
    ],
    request: request({ context: { "identitystore:userId": "u-2", "aws:SecureTransport": "false" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "a negated operator holds when the value matches none of several",
    doc: DOC.conditionBlock,
    policies: denyIf({ StringNotEquals: { "aws:userid": ["a", "b"] } }),
    request: request({ context: { "aws:userid": "c" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "a negated operator fails when the value matches one of several",
    doc: DOC.conditionBlock,
    policies: denyIf({ StringNotEquals: { "aws:userid": ["a", "b"] } }),
    request: request({ context: { "aws:userid": "b" } }),
    expected: "Allow",
  },
  {
    name: "condition keys are looked up case-insensitively",
    doc: DOC.keyCase,
    policies: [allowIf({ StringEquals: { "IDENTITYSTORE:USERID": "u-123" } })],
    request: request({ context: { "identitystore:userId": "u-123" } }),
    expected: "Allow",
  },
  {
    name: "without a set qualifier a multi-valued key matches if any value matches",
    doc: DOC.setOperators,
    policies: [allowIf({ StringEquals: { "aws:TagKeys": "team" } })],
    request: request({ context: { "aws:TagKeys": ["owner", "team"] } }),
    expected: "Allow",
  },
];

const stringCases: Case[] = [
  {
    name: "StringEquals is case-sensitive",
    doc: DOC.string,
    policies: [allowIf({ StringEquals: { "aws:username": "Alice" } })],
    request: request({ context: { "aws:username": "alice" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "StringEquals matches the exact text",
    doc: DOC.string,
    policies: [allowIf({ StringEquals: { "aws:username": "alice" } })],
    request: request({ context: { "aws:username": "alice" } }),
    expected: "Allow",
  },
  {
    name: "StringNotEquals holds for a different value",
    doc: DOC.string,
    policies: [allowIf({ StringNotEquals: { "aws:username": "mallory" } })],
    request: request({ context: { "aws:username": "alice" } }),
    expected: "Allow",
  },
  {
    name: "StringEqualsIgnoreCase ignores case",
    doc: DOC.string,
    policies: [allowIf({ StringEqualsIgnoreCase: { "aws:username": "ALICE" } })],
    request: request({ context: { "aws:username": "alice" } }),
    expected: "Allow",
  },
  {
    name: "StringNotEqualsIgnoreCase fails for the same text in another case",
    doc: DOC.string,
    policies: [allowIf({ StringNotEqualsIgnoreCase: { "aws:username": "ALICE" } })],
    request: request({ context: { "aws:username": "alice" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "StringLike: * matches any run of characters",
    doc: DOC.string,
    policies: [allowIf({ StringLike: { "s3:prefix": "home/*" } })],
    request: request({ context: { "s3:prefix": "home/alice/docs/" } }),
    expected: "Allow",
  },
  {
    name: "StringLike: ? matches exactly one character",
    doc: DOC.string,
    policies: [allowIf({ StringLike: { "s3:prefix": "q?/" } })],
    request: request({ context: { "s3:prefix": "q10/" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "StringLike without a wildcard needs the whole value",
    doc: DOC.string,
    policies: [allowIf({ StringLike: { "s3:prefix": "home" } })],
    request: request({ context: { "s3:prefix": "home/alice" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "StringNotLike holds for a value the pattern does not match",
    doc: DOC.string,
    policies: denyIf({ StringNotLike: { "s3:prefix": "public/*" } }),
    request: request({ context: { "s3:prefix": "private/" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "StringNotLike fails for a value the pattern matches",
    doc: DOC.string,
    policies: denyIf({ StringNotLike: { "s3:prefix": "public/*" } }),
    request: request({ context: { "s3:prefix": "public/x" } }),
    expected: "Allow",
  },
];

const numericCases: Case[] = [
  {
    name: "NumericEquals holds for the same number written differently",
    doc: DOC.numeric,
    policies: [allowIf({ NumericEquals: { "s3:max-keys": "10" } })],
    request: request({ context: { "s3:max-keys": "10.0" } }),
    expected: "Allow",
  },
  {
    name: "NumericNotEquals holds for another number",
    doc: DOC.numeric,
    policies: [allowIf({ NumericNotEquals: { "s3:max-keys": "10" } })],
    request: request({ context: { "s3:max-keys": "11" } }),
    expected: "Allow",
  },
  {
    name: "NumericLessThan holds for a smaller number",
    doc: DOC.numeric,
    policies: [allowIf({ NumericLessThan: { "s3:max-keys": 100 } })],
    request: request({ context: { "s3:max-keys": "50" } }),
    expected: "Allow",
  },
  {
    name: "NumericLessThan fails for a larger number",
    doc: DOC.numeric,
    policies: [allowIf({ NumericLessThan: { "s3:max-keys": "100" } })],
    request: request({ context: { "s3:max-keys": "500" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "NumericLessThanEquals holds at the bound",
    doc: DOC.numeric,
    policies: [allowIf({ NumericLessThanEquals: { "s3:max-keys": "10" } })],
    request: request({ context: { "s3:max-keys": "10" } }),
    expected: "Allow",
  },
  {
    name: "NumericGreaterThan fails at the bound",
    doc: DOC.numeric,
    policies: [allowIf({ NumericGreaterThan: { "s3:max-keys": "10" } })],
    request: request({ context: { "s3:max-keys": "10" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "NumericGreaterThanEquals holds at the bound",
    doc: DOC.numeric,
    policies: [allowIf({ NumericGreaterThanEquals: { "s3:max-keys": "10" } })],
    request: request({ context: { "s3:max-keys": "10" } }),
    expected: "Allow",
  },
  {
    name: "NumericEquals fails for a value that is not a number",
    doc: DOC.numeric,
    policies: [allowIf({ NumericEquals: { "s3:max-keys": "0" } })],
    request: request({ context: { "s3:max-keys": "ten" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "NumericNotEquals on a value that is not a number is undetermined",
    doc: DOC.numeric,
    policies: denyIf({ NumericNotEquals: { "s3:max-keys": "10" } }),
    request: request({ context: { "s3:max-keys": "ten" } }),
    expected: "Undetermined",
    reason: "is not a number",
  },
];

const dateCases: Case[] = [
  {
    name: "DateEquals compares instants, not text",
    doc: DOC.date,
    policies: [allowIf({ DateEquals: { "aws:CurrentTime": "2030-01-01T01:00:00+01:00" } })],
    request: request({ context: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } }),
    expected: "Allow",
  },
  {
    name: "DateNotEquals holds for another instant",
    doc: DOC.date,
    policies: [allowIf({ DateNotEquals: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })],
    request: request({ context: { "aws:CurrentTime": "2030-01-01T00:00:01Z" } }),
    expected: "Allow",
  },
  {
    name: "DateLessThan holds before an ISO 8601 deadline",
    doc: DOC.date,
    policies: [allowIf({ DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })],
    request: request({ context: { "aws:CurrentTime": "2029-12-31T23:59:59Z" } }),
    expected: "Allow",
  },
  {
    name: "DateLessThanEquals holds at the deadline",
    doc: DOC.date,
    policies: [allowIf({ DateLessThanEquals: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })],
    request: request({ context: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } }),
    expected: "Allow",
  },
  {
    name: "DateGreaterThan compares epoch seconds with ISO 8601",
    doc: DOC.date,
    policies: [allowIf({ DateGreaterThan: { "aws:EpochTime": "2030-01-01T00:00:00Z" } })],
    request: request({ context: { "aws:EpochTime": String(Date.UTC(2029, 11, 31) / 1000) } }),
    expected: "ImplicitDeny",
  },
  {
    name: "DateGreaterThanEquals holds at the instant",
    doc: DOC.date,
    policies: [allowIf({ DateGreaterThanEquals: { "aws:EpochTime": String(Date.UTC(2030, 0, 1) / 1000) } })],
    request: request({ context: { "aws:EpochTime": String(Date.UTC(2030, 0, 1) / 1000) } }),
    expected: "Allow",
  },
  {
    name: "a Deny while aws:TokenIssueTime is before a cut-off refuses an older session",
    doc: DOC.date,
    policies: denyIf({ DateLessThan: { "aws:TokenIssueTime": "2030-01-01T12:00:00Z" } }),
    request: request({ context: { "aws:TokenIssueTime": "2030-01-01T11:00:00Z" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "a date condition on a missing key is false",
    doc: DOC.date,
    policies: denyIf({ DateLessThan: { "aws:TokenIssueTime": "2030-01-01T12:00:00Z" } }),
    request: request(),
    expected: "Allow",
  },
  {
    name: "DateLessThan on a value that is not a date does not hold",
    doc: DOC.date,
    policies: [allowIf({ DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } })],
    request: request({ context: { "aws:CurrentTime": "yesterday" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "DateNotEquals on a value that is not a date is undetermined",
    doc: DOC.date,
    policies: denyIf({ DateNotEquals: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } }),
    request: request({ context: { "aws:CurrentTime": "yesterday" } }),
    expected: "Undetermined",
    reason: "is not an ISO 8601 date or epoch seconds",
  },
];

const boolBinaryCases: Case[] = [
  {
    name: 'Bool aws:SecureTransport "false" denies plain HTTP',
    doc: DOC.bool,
    policies: denyIf({ Bool: { "aws:SecureTransport": "false" } }),
    request: request({ context: { "aws:SecureTransport": "false" } }),
    expected: "ExplicitDeny",
  },
  {
    name: 'Bool aws:SecureTransport "false" (a JSON boolean) spares TLS',
    doc: DOC.bool,
    policies: denyIf({ Bool: { "aws:SecureTransport": false } }),
    request: request(),
    expected: "Allow",
  },
  {
    name: "Bool on a missing key is false",
    doc: DOC.bool,
    policies: [allowIf({ Bool: { "aws:MultiFactorAuthPresent": "true" } })],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "Bool with a policy variable is undetermined (the pages disagree)",
    doc: DOC.bool,
    policies: [allowIf({ Bool: { "aws:SecureTransport": `\${aws:ViaAWSService}` } })],
    request: request({ context: { "aws:ViaAWSService": "true" } }),
    expected: "Undetermined",
    reason: "Bool",
  },
  {
    name: "BinaryEquals compares the base-64 text",
    doc: DOC.binary,
    policies: [allowIf({ BinaryEquals: { "s3:x-amz-content-sha256": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } })],
    request: request({ context: { "s3:x-amz-content-sha256": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } }),
    expected: "Allow",
  },
  {
    name: "BinaryEquals fails for other bytes",
    doc: DOC.binary,
    policies: [allowIf({ BinaryEquals: { "s3:x-amz-content-sha256": "QmluYXJ5VmFsdWVJbkJhc2U2NA==" } })],
    request: request({ context: { "s3:x-amz-content-sha256": "b3RoZXI=" } }),
    expected: "ImplicitDeny",
  },
];

const ipCases: Case[] = [
  {
    name: "IpAddress holds inside an IPv4 block",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": ["198.51.100.0/24", "203.0.113.0/28"] } })],
    request: request({ context: { "aws:SourceIp": "203.0.113.9" } }),
    expected: "Allow",
  },
  {
    name: "IpAddress fails just outside an IPv4 block",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "203.0.113.0/28" } })],
    request: request({ context: { "aws:SourceIp": "203.0.113.16" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "an address without a prefix is a /32",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "203.0.113.9" } })],
    request: request({ context: { "aws:SourceIp": "203.0.113.10" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "NotIpAddress holds outside the block, so the Deny applies",
    doc: DOC.ip,
    policies: denyIf({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }),
    request: request({ context: { "aws:SourceIp": "11.0.0.1" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "IpAddress holds inside an IPv6 block",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "2001:DB8:1234:5678::/64" } })],
    request: request({ context: { "aws:SourceIp": "2001:db8:1234:5678:abcd::1" } }),
    expected: "Allow",
  },
  {
    name: "IpAddress fails outside an IPv6 block",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "2001:DB8:1234:5678::/64" } })],
    request: request({ context: { "aws:SourceIp": "2001:db8:1234:5679::1" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "an IPv6 address without a prefix is a /128 (the loopback ::1)",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "::1" } })],
    request: request({ context: { "aws:SourceIp": "0:0:0:0:0:0:0:1" } }),
    expected: "Allow",
  },
  {
    name: "NotIpAddress with an IPv6 block denies an IPv6 caller outside it",
    doc: DOC.ip,
    policies: denyIf({ NotIpAddress: { "aws:SourceIp": "2001:db8::/32" } }),
    request: request({ context: { "aws:SourceIp": "2600:1f18::5" } }),
    expected: "ExplicitDeny",
  },
  {
    name: "NotIpAddress with an IPv6 block spares an IPv6 caller inside it",
    doc: DOC.ip,
    policies: denyIf({ NotIpAddress: { "aws:SourceIp": "2001:db8::/32" } }),
    request: request({ context: { "aws:SourceIp": "2001:db8:ffff::5" } }),
    expected: "Allow",
  },
  {
    name: "mixed IPv4 and IPv6 blocks: an IPv4 caller matches its own family",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"] } })],
    request: request({ context: { "aws:SourceIp": "203.0.113.200" } }),
    expected: "Allow",
  },
  {
    name: "an IPv4 caller is never inside an IPv6-only list",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "::/0" } })],
    request: request({ context: { "aws:SourceIp": "203.0.113.200" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "IpAddress with aws:SourceIp missing (a VPC endpoint request) is false",
    doc: DOC.ip,
    policies: [allowIf({ IpAddress: { "aws:SourceIp": "0.0.0.0/0" } })],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "NotIpAddress on a source that is not an address is undetermined",
    doc: DOC.ip,
    policies: denyIf({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }),
    request: request({ context: { "aws:SourceIp": "unknown" } }),
    expected: "Undetermined",
    reason: "is not an IPv4 or IPv6 address",
  },
];

const arnCases: Case[] = [
  {
    name: "ArnLike * spans '/' and matches the role with a region segment",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnLike matches the us-east-1 role without a region segment",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: session(DATA_ROLE_US_EAST_1) }),
    expected: "Allow",
  },
  {
    name: "ArnLike for S3Access does not match the AdministratorAccess role",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: session(ADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "ArnLike for S3Access_ does not match a set named S3AccessAdmin",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: session(S3_ACCESSADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    // The prefix trap: set names may contain "_", so S3Access_* also covers the set S3Access_Admin.
    name: "PREFIX TRAP: ArnLike S3Access_* DOES match the set S3Access_Admin",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": DATA_ROLE_PATTERN } })))],
    request: request({ principal: session(S3_ACCESS_ADMIN_ROLE) }),
    expected: "Allow",
  },
  {
    name: "sixteen ? for the role suffix avoid the prefix trap",
    doc: DOC.arn,
    policies: [
      bucket(
        bucketAllowRead(
          when({ ArnLike: { "aws:PrincipalArn": `${SSO_PATH}/*AWSReservedSSO_S3Access_${"?".repeat(16)}` } }),
        ),
      ),
    ],
    request: request({ principal: session(S3_ACCESS_ADMIN_ROLE) }),
    expected: "ImplicitDeny",
  },
  {
    name: "ArnLike compares segments, so a pattern of fewer than six segments matches nothing",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*" } })))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "StringLike on the same text is a plain wildcard and does match",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ StringLike: { "aws:PrincipalArn": "arn:aws:iam::*" } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnLike's * stays within one segment: the account segment cannot swallow colons",
    doc: DOC.arn,
    policies: [allowIf({ ArnLike: { "aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*" } })],
    request: request({
      context: {
        "aws:SourceArn":
          "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
      },
    }),
    expected: "ImplicitDeny",
  },
  {
    name: "ArnEquals accepts wildcards like ArnLike",
    doc: DOC.arn,
    policies: [bucket(bucketAllowRead(when({ ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::*:role/*" } })))],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnEquals is case-sensitive",
    doc: DOC.arn,
    policies: [allowIf({ ArnEquals: { "aws:PrincipalArn": DATA_ROLE.toUpperCase() } })],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "ArnNotEquals holds for another ARN, so the Deny applies",
    doc: DOC.arn,
    policies: denyIf({ ArnNotEquals: { "aws:PrincipalArn": OTHER_ROLE } }),
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "ArnNotLike fails for a listed pattern, so the Deny does not apply",
    doc: DOC.arn,
    policies: denyIf({ ArnNotLike: { "aws:PrincipalArn": [ADMIN_ROLE_PATTERN, DATA_ROLE_PATTERN] } }),
    request: request(),
    expected: "Allow",
  },
];

const ifExistsNullCases: Case[] = [
  {
    name: "StringEqualsIfExists with the key missing holds",
    doc: DOC.ifExists,
    policies: [allowIf({ StringEqualsIfExists: { "s3:prefix": "reports/" } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: "StringEqualsIfExists with the key present still compares",
    doc: DOC.ifExists,
    policies: [allowIf({ StringEqualsIfExists: { "s3:prefix": "reports/" } })],
    request: request({ context: { "s3:prefix": "secrets/" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "a Deny with StringNotEqualsIfExists applies when the key is missing",
    doc: DOC.ifExists,
    policies: denyIf({ StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } }),
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: "NumericLessThanIfExists with the key missing holds",
    doc: DOC.ifExists,
    policies: [allowIf({ NumericLessThanIfExists: { "s3:max-keys": "10" } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: "IpAddressIfExists with aws:SourceIp missing holds",
    doc: DOC.ifExists,
    policies: [allowIf({ IpAddressIfExists: { "aws:SourceIp": "10.0.0.0/8" } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ArnLikeIfExists with the key present and not matching fails",
    doc: DOC.ifExists,
    policies: [allowIf({ ArnLikeIfExists: { "aws:SourceArn": "arn:aws:sns:*:111122223333:topic" } })],
    request: request({ context: { "aws:SourceArn": "arn:aws:sns:eu-west-1:444455556666:topic" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "DateGreaterThanIfExists with the key missing holds",
    doc: DOC.ifExists,
    policies: [allowIf({ DateGreaterThanIfExists: { "aws:TokenIssueTime": "2020-01-01T00:00:00Z" } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: "BoolIfExists with the key missing holds",
    doc: DOC.ifExists,
    policies: [allowIf({ BoolIfExists: { "aws:MultiFactorAuthPresent": "true" } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: 'Null "true" holds when the key is absent',
    doc: DOC.nullCheck,
    policies: denyIf({ Null: { "aws:userid": "true" } }),
    request: request(),
    expected: "ExplicitDeny",
  },
  {
    name: 'Null "true" fails when the key is present',
    doc: DOC.nullCheck,
    policies: denyIf({ Null: { "aws:userid": "true" } }),
    request: request({ context: { "aws:userid": "AROAEXAMPLE:alice" } }),
    expected: "Allow",
  },
  {
    name: 'Null "false" holds when the key is present',
    doc: DOC.nullCheck,
    policies: [allowIf({ Null: { "aws:userid": "false" } })],
    request: request({ context: { "aws:userid": "AROAEXAMPLE:alice" } }),
    expected: "Allow",
  },
  {
    name: 'Null "false" fails when the key is absent',
    doc: DOC.nullCheck,
    policies: [allowIf({ Null: { "aws:userid": "false" } })],
    request: request(),
    expected: "ImplicitDeny",
  },
];

const setCases: Case[] = [
  {
    name: "ForAnyValue with the key missing is false",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } })],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAnyValue with an empty key is false",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } })],
    request: request({ context: { "aws:TagKeys": [] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAnyValue holds when one of several request values matches",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } })],
    request: request({ context: { "aws:TagKeys": ["owner", "team"] } }),
    expected: "Allow",
  },
  {
    name: "ForAnyValue fails when no request value matches",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringLike": { "aws:TagKeys": ["team*"] } })],
    request: request({ context: { "aws:TagKeys": ["owner", "cost"] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAllValues with the key missing holds",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ForAllValues with an empty key holds",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } })],
    request: request({ context: { "aws:TagKeys": [] } }),
    expected: "Allow",
  },
  {
    name: "ForAllValues fails when one request value is not listed",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } })],
    request: request({ context: { "aws:TagKeys": ["team", "cost-centre"] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAllValues holds when every request value is listed",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } })],
    request: request({ context: { "aws:TagKeys": ["owner", "team"] } }),
    expected: "Allow",
  },
  {
    name: "ForAllValues with a negated operator needs every request value to match none",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:StringNotLike": { "aws:TagKeys": ["secret*"] } })],
    request: request({ context: { "aws:TagKeys": ["team", "secret-level"] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAnyValue with a negated operator holds if one value matches none",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringNotEquals": { "aws:TagKeys": ["team"] } })],
    request: request({ context: { "aws:TagKeys": ["team", "owner"] } }),
    expected: "Allow",
  },
  {
    name: "a Deny with ForAnyValue applies when one forbidden value is present",
    doc: DOC.setOperators,
    policies: denyIf({ "ForAnyValue:StringLike": { "aws:TagKeys": ["ID", "PostDateTime"] } }),
    request: request({ context: { "aws:TagKeys": ["UserName", "Message", "PostDateTime"] } }),
    expected: "ExplicitDeny",
  },
  {
    name: "ForAllValues with ...IfExists and the key missing holds (both say true)",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:StringEqualsIfExists": { "aws:TagKeys": ["team"] } })],
    request: request(),
    expected: "Allow",
  },
  {
    name: "ForAnyValue with ...IfExists on a missing key is undetermined",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringEqualsIfExists": { "aws:TagKeys": ["team"] } })],
    request: request(),
    expected: "Undetermined",
    reason: "IfExists makes a missing key true, ForAnyValue makes it false",
  },
  {
    name: "ForAnyValue with ...IfExists on a present key compares as usual",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:StringEqualsIfExists": { "aws:TagKeys": ["team"] } })],
    request: request({ context: { "aws:TagKeys": ["owner"] } }),
    expected: "ImplicitDeny",
  },
  {
    name: "ForAnyValue:NumericLessThan compares numbers",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAnyValue:NumericLessThan": { "s3:max-keys": "5" } })],
    request: request({ context: { "s3:max-keys": ["7", "3"] } }),
    expected: "Allow",
  },
  {
    name: "ForAllValues:IpAddress needs every address inside",
    doc: DOC.setOperators,
    policies: [allowIf({ "ForAllValues:IpAddress": { "aws:SourceIp": "10.0.0.0/8" } })],
    request: request({ context: { "aws:SourceIp": ["10.1.2.3", "192.0.2.1"] } }),
    expected: "ImplicitDeny",
  },
];

const variableCases: Case[] = [
  {
    name: "policy variables are substituted in Resource",
    doc: DOC.variables,
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username}/*` }))],
    request: request({ resource: `${BUCKET}/home/alice/notes.txt`, context: { "aws:username": "alice" } }),
    expected: "Allow",
  },
  {
    name: "a substituted value cannot act as a wildcard",
    doc: DOC.variables,
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username}/*` }))],
    request: request({ resource: `${BUCKET}/home/alice/notes.txt`, context: { "aws:username": "*" } }),
    expected: "ImplicitDeny",
  },
  {
    name: "policy variables are substituted in string condition values",
    doc: DOC.variables,
    policies: [allowIf({ StringLike: { "s3:prefix": `home/\${aws:username}/*` } })],
    request: request({ context: { "aws:username": "alice", "s3:prefix": "home/alice/docs/" } }),
    expected: "Allow",
  },
  {
    name: "policy variables are substituted in ARN condition values",
    doc: DOC.variables,
    policies: [
      allowIf({ ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::\${aws:PrincipalAccount}:role/*` } }),
    ],
    request: request(),
    expected: "Allow",
  },
  {
    name: "a variable with no value in Resource is undetermined",
    doc: DOC.variableNoValue,
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username}/*` }))],
    request: request({ resource: `${BUCKET}/home/alice/notes.txt` }),
    expected: "Undetermined",
    reason: "policy variable that has no value",
  },
  {
    name: "a variable with no value in a Deny's condition is undetermined",
    doc: DOC.variableNoValue,
    policies: denyIf({ StringNotLike: { "s3:prefix": `home/\${aws:username}/*` } }),
    request: request({ context: { "s3:prefix": "home/alice/" } }),
    expected: "Undetermined",
    reason: "policy variable that has no value",
  },
  {
    name: "a variable with no value does not matter when another element already fails",
    doc: DOC.variableNoValue,
    policies: [identity(allowRead({ Action: "s3:PutObject", Resource: `${BUCKET}/\${aws:username}/*` }))],
    request: request(),
    expected: "ImplicitDeny",
  },
  {
    name: "a variable with no value does not matter when another listed value matches",
    doc: DOC.variableNoValue,
    policies: [allowIf({ StringEquals: { "s3:prefix": ["reports/", `home/\${aws:username}/`] } })],
    request: request({ context: { "s3:prefix": "reports/" } }),
    expected: "Allow",
  },
  {
    name: "a default value stands in for a missing variable",
    doc: DOC.variableDefault,
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username, 'guest'}/*` }))],
    request: request({ resource: `${BUCKET}/home/guest/readme.txt` }),
    expected: "Allow",
  },
  {
    name: "the request's value wins over the default",
    doc: DOC.variableDefault,
    policies: [identity(allowRead({ Resource: `${BUCKET}/home/\${aws:username, 'guest'}/*` }))],
    request: request({ resource: `${BUCKET}/home/guest/readme.txt`, context: { "aws:username": "alice" } }),
    expected: "ImplicitDeny",
  },
  {
    name: `\${*} stands for a literal asterisk`,
    doc: DOC.variables,
    policies: [identity(allowRead({ Resource: `${BUCKET}/literal-\${*}` }))],
    request: request({ resource: `${BUCKET}/literal-anything` }),
    expected: "ImplicitDeny",
  },
  {
    name: `a version 2008-10-17 policy takes \${...} literally`,
    doc: DOC.version,
    policies: [
      {
        kind: "identity",
        name: "old",
        document: {
          Version: "2008-10-17",
          Statement: [allowRead({ Resource: `${BUCKET}/\${aws:username}` })],
        },
      },
    ],
    request: request({ resource: `${BUCKET}/alice`, context: { "aws:username": "alice" } }),
    expected: "ImplicitDeny",
  },
];

// The k9 bucket policy as Keyturn generates it, with the per-capability denies that keep listed
// administrators (who hold AdministratorAccess in their identity policy) away from the data, and
// the storage denies that leave multipart uploads alone.
const READ_DATA = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"];
const WRITE_DATA = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectTagging"];
const BOTH = [BUCKET, `${BUCKET}/*`];
const onlyFor = (pattern: string | string[]) => ({ ArnLike: { "aws:PrincipalArn": pattern } });
const exceptFor = (pattern: string | string[]) => ({ ArnNotLike: { "aws:PrincipalArn": pattern } });
const SSE = "s3:x-amz-server-side-encryption";
const SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id";
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
    Sid: "DenyStorageWithoutKMSEncryption",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:PutObject",
    Resource: `${BUCKET}/*`,
    Condition: { Null: { [SSE]: "false" }, StringNotEquals: { [SSE]: "aws:kms" } },
  },
  {
    Sid: "DenyUnexpectedKMSKey",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:PutObject",
    Resource: `${BUCKET}/*`,
    Condition: { Null: { [SSE_KEY]: "false" }, StringNotEquals: { [SSE_KEY]: KEY } },
  },
  {
    Sid: "DenyKMSWithoutPinnedKey",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:PutObject",
    Resource: `${BUCKET}/*`,
    Condition: { Null: { [SSE]: "false", [SSE_KEY]: "true" } },
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
const upload = (context: Record<string, ContextValue | undefined> = {}) =>
  request({ action: "s3:PutObject", resource: `${BUCKET}/uploads/big.bin`, context });

const k9Cases: Case[] = [
  {
    name: "an administrator with AdministratorAccess cannot read the data",
    doc: DOC.evaluation,
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: session(ADMIN_ROLE) }),
    expected: "ExplicitDeny",
    sids: ["DenyReadDataToOthers"],
  },
  {
    name: "an administrator can still administer the bucket",
    doc: DOC.identityAndResource,
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: session(ADMIN_ROLE), action: "s3:PutBucketPolicy", resource: BUCKET }),
    expected: "Allow",
    sids: ["AdministratorAccess", "AllowRestrictedAdministerResource"],
  },
  {
    name: "the data role reads through the bucket policy alone",
    doc: DOC.identityAndResource,
    policies: [viewOnly, k9Bucket],
    request: request(),
    expected: "Allow",
    sids: ["AllowRestrictedReadData"],
  },
  {
    name: "the us-east-1 data role reads too",
    doc: DOC.arn,
    policies: [viewOnly, k9Bucket],
    request: request({ principal: session(DATA_ROLE_US_EAST_1) }),
    expected: "Allow",
  },
  {
    name: "the data role over plain HTTP is denied",
    doc: DOC.bool,
    policies: [viewOnly, k9Bucket],
    request: request({ context: { "aws:SecureTransport": "false" } }),
    expected: "ExplicitDeny",
    sids: ["DenyInsecureCommunications"],
  },
  {
    name: "PutObject naming no encryption is allowed (the bucket's default SSE-KMS applies)",
    doc: DOC.s3Sse,
    policies: [viewOnly, k9Bucket],
    request: upload(),
    expected: "Allow",
    sids: ["AllowRestrictedWriteData"],
  },
  {
    name: "UploadPart carries no SSE header and is authorized as s3:PutObject: allowed",
    doc: DOC.s3Multipart,
    policies: [viewOnly, k9Bucket],
    request: upload(),
    expected: "Allow",
  },
  {
    name: "PutObject with AES256 is denied",
    doc: DOC.s3Sse,
    policies: [viewOnly, k9Bucket],
    request: upload({ [SSE]: "AES256" }),
    expected: "ExplicitDeny",
    sids: ["DenyStorageWithoutKMSEncryption", "DenyKMSWithoutPinnedKey"],
  },
  {
    name: "CreateMultipartUpload with aws:kms and the pinned key is allowed",
    doc: DOC.s3Multipart,
    policies: [viewOnly, k9Bucket],
    request: upload({ [SSE]: "aws:kms", [SSE_KEY]: KEY }),
    expected: "Allow",
    sids: ["AllowRestrictedWriteData"],
  },
  {
    name: "CreateMultipartUpload naming another account's key is denied",
    doc: DOC.s3Multipart,
    policies: [viewOnly, k9Bucket],
    request: upload({ [SSE]: "aws:kms", [SSE_KEY]: FOREIGN_KEY }),
    expected: "ExplicitDeny",
    sids: ["DenyUnexpectedKMSKey"],
  },
  {
    name: "aws:kms without a key id (S3 would use aws/s3, not the pinned key) is denied",
    doc: DOC.s3Sse,
    policies: [viewOnly, k9Bucket],
    request: upload({ [SSE]: "aws:kms" }),
    expected: "ExplicitDeny",
    sids: ["DenyKMSWithoutPinnedKey"],
  },
  {
    name: "another role of the account with AdministratorAccess hits DenyEveryoneElse",
    doc: DOC.evaluation,
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: session(OTHER_ROLE), action: "s3:GetBucketPolicy", resource: BUCKET }),
    expected: "ExplicitDeny",
    sids: ["DenyEveryoneElse"],
  },
  {
    name: 'an anonymous caller is denied: {"AWS":"*"} denies cover anonymous callers',
    doc: DOC.allPrincipals,
    policies: [k9Bucket],
    request: request({ principal: anonymous }),
    expected: "ExplicitDeny",
    sids: ["DenyReadDataToOthers", "DenyEveryoneElse"],
  },
  {
    name: "the account's root user is denied the data like everyone not listed",
    doc: DOC.evaluation,
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: root() }),
    expected: "ExplicitDeny",
    sids: ["DenyReadDataToOthers", "DenyEveryoneElse"],
  },
  {
    name: "the policy names the root user nowhere: PutBucketPolicy is denied by the policy (S3 makes the exception)",
    doc: DOC.s3Lockout,
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: root(), action: "s3:PutBucketPolicy", resource: BUCKET }),
    expected: "ExplicitDeny",
    sids: ["DenyEveryoneElse"],
  },
  {
    name: "a foreign account's session is denied even with its own AdministratorAccess",
    doc: DOC.crossAccount,
    policies: [administratorAccess, k9Bucket],
    request: request({ principal: session(FOREIGN_ROLE), resourceAccount: ACCOUNT }),
    expected: "ExplicitDeny",
  },
];

const cases: Case[] = [
  ...evaluationCases,
  ...principalCases,
  ...notPrincipalCases,
  ...actionResourceCases,
  ...conditionBasics,
  ...stringCases,
  ...numericCases,
  ...dateCases,
  ...boolBinaryCases,
  ...ipCases,
  ...arnCases,
  ...ifExistsNullCases,
  ...setCases,
  ...variableCases,
  ...k9Cases,
];

function check({ policies, request: req, expected, sids, reason }: Case): void {
  const result = evaluate(req, policies);
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  const evaluation = result.evaluation;
  expect(evaluation.decision).toBe(expected);
  if (sids !== undefined) {
    expect(evaluation.decidedBy.map((ref) => ref.sid)).toEqual(sids);
  }
  if (evaluation.decision === "Undetermined") {
    expect(evaluation.undetermined.length).toBeGreaterThan(0);
    expect(evaluation.undetermined.map((entry) => entry.reason).join(" | ")).toContain(reason ?? "");
    expect(evaluation.explanation).toContain("Undetermined");
  }
}

/** Every operator name and element the table's policies use. */
function usedVocabulary(): { operators: Set<string>; elements: Set<string> } {
  const operators = new Set<string>();
  const elements = new Set<string>();
  for (const { policies } of cases) {
    for (const policy of policies) {
      const document = policy.document as { Statement: Statement[] };
      for (const statement of document.Statement) {
        for (const [element, value] of Object.entries(statement)) {
          if (value !== undefined) {
            elements.add(`${statement.Effect} ${element}`);
          }
        }
        for (const name of Object.keys((statement.Condition ?? {}) as object)) {
          operators.add(name);
        }
      }
    }
  }
  return { operators, elements };
}

describe("evaluate: the AWS-documented case table", () => {
  it.each(cases)("$name  [$doc]", check);

  it("has at least 150 cases, each citing the AWS page and section it comes from", () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const known = new Set<string>(Object.values(DOC));
    for (const entry of cases) {
      expect(known.has(entry.doc), entry.name).toBe(true);
    }
    expect(new Set(cases.map((entry) => entry.name)).size).toBe(cases.length);
  });

  it("covers every condition operator family, IfExists and both set qualifiers", () => {
    const { operators } = usedVocabulary();
    const bases = new Set(
      [...operators].map((name) => name.replace(/^For(Any|All)Values?:/, "").replace(/IfExists$/, "")),
    );
    for (const operator of CONDITION_OPERATORS) {
      expect(bases.has(operator), operator).toBe(true);
    }
    expect([...operators].some((name) => name.endsWith("IfExists"))).toBe(true);
    expect([...operators].some((name) => name.startsWith("ForAnyValue:"))).toBe(true);
    expect([...operators].some((name) => name.startsWith("ForAllValues:"))).toBe(true);
  });

  it("covers Principal and NotPrincipal, Action and NotAction, Resource and NotResource", () => {
    const { elements } = usedVocabulary();
    for (const element of [
      "Allow Principal",
      "Deny Principal",
      "Allow NotPrincipal",
      "Deny NotPrincipal",
      "Allow Action",
      "Allow NotAction",
      "Deny NotAction",
      "Allow Resource",
      "Allow NotResource",
      "Deny NotResource",
    ]) {
      expect(elements.has(element), element).toBe(true);
    }
  });

  it("decides for every kind of caller: role session, IAM user, root user, anonymous", () => {
    const kinds = new Set(
      cases.map(({ request: req }) =>
        req.principal.type === "Anonymous"
          ? "anonymous"
          : req.principal.sessionArn !== undefined
            ? "session"
            : req.principal.arn.endsWith(":root")
              ? "root"
              : "user",
      ),
    );
    expect([...kinds].sort()).toEqual(["anonymous", "root", "session", "user"]);
    expect(cases.filter((entry) => entry.expected === "Undetermined").length).toBeGreaterThanOrEqual(8);
  });
});

describe("evaluate", () => {
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

  it("explains that an account principal only delegates", () => {
    const result = evaluate(request(), [bucket(allowRead({ Sid: "Account", Principal: { AWS: ROOT } }))]);
    expect(result.ok && result.evaluation.explanation).toContain(
      `"Account" (bucket) names the account, which delegates to the account's identity policies`,
    );
  });

  it("names the statements an undetermined answer hangs on, with the reason", () => {
    const result = evaluate(request(), [
      identity(allowRead()),
      bucket(bucketDenyRead({ Sid: "DenyOutsideHome", Resource: `${BUCKET}/\${aws:username}/*` })),
    ]);
    expect(result).toMatchObject({
      ok: true,
      evaluation: {
        decision: "Undetermined",
        decidedBy: [],
        undetermined: [
          {
            policy: "bucket",
            kind: "resource",
            index: 0,
            sid: "DenyOutsideHome",
            effect: "Deny",
            reason: expect.stringContaining(`\${aws:username}`),
          },
        ],
      },
    });
  });

  it("is not undetermined when the open statement cannot change the outcome", () => {
    const openDeny = bucketDenyRead({ Sid: "OpenDeny", Resource: `${BUCKET}/\${aws:username}/*` });
    // Nothing allows: denied either way.
    expect(evaluate(request(), [bucket(openDeny)])).toMatchObject({
      evaluation: { decision: "ImplicitDeny" },
    });
    // A definite Deny already decides.
    expect(evaluate(request(), [identity(allowRead()), bucket(openDeny, bucketDenyRead())])).toMatchObject({
      evaluation: { decision: "ExplicitDeny", decidedBy: [{ sid: "DenyRead" }] },
    });
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
