import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import {
  type ContextValue,
  type Evaluation,
  evaluateParsed,
  type ParsedPolicyInput,
  type Principal,
  parsePolicy,
} from "@keyturn/bucket-policy";
import type { EmulatorContext } from "./call.js";
import type { Bucket, Caller } from "./state.js";
import { AwsError } from "./wire.js";

// Who is calling S3, and may they? The caller comes from the access key in the SigV4 credential
// scope (header or presigned query). Signatures are NOT verified: the emulator trusts the key id,
// which is all a test needs to act as a principal.

export type S3Identity = { kind: "anonymous" } | { kind: "caller"; caller: Caller };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function resolveIdentity(
  ctx: EmulatorContext,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
): S3Identity {
  const authorization = header(headers, "authorization");
  let accessKeyId: string | undefined;
  if (authorization !== undefined) {
    accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
    if (accessKeyId === undefined) {
      throw new AwsError("AuthorizationHeaderMalformed", "The authorization header is malformed.");
    }
  } else {
    accessKeyId = query.get("X-Amz-Credential")?.split("/")[0];
  }
  if (accessKeyId === undefined) {
    return { kind: "anonymous" };
  }
  const caller = ctx.state.callers.get(accessKeyId);
  if (caller === undefined) {
    throw new AwsError(
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
      { status: 403, fields: { AWSAccessKeyId: accessKeyId } },
    );
  }
  if (caller.sessionToken !== undefined) {
    const token = header(headers, "x-amz-security-token") ?? query.get("X-Amz-Security-Token") ?? undefined;
    if (token !== caller.sessionToken) {
      throw new AwsError("InvalidToken", "The provided token is malformed or otherwise invalid.");
    }
  }
  if (caller.expiresAt !== undefined && caller.expiresAt <= ctx.state.now()) {
    throw new AwsError("ExpiredToken", "The provided token has expired.");
  }
  return { kind: "caller", caller };
}

/** The ARN AWS names in AccessDenied messages: the session ARN for sessions. */
export function describeIdentity(identity: S3Identity): string {
  if (identity.kind === "anonymous") {
    return "anonymous";
  }
  return sessionArnOf(identity.caller) ?? identity.caller.roleArn;
}

/** `arn:aws:sts::<account>:assumed-role/<role name>/<session>` for a role session, else undefined. */
function sessionArnOf(caller: Caller): string | undefined {
  if (caller.kind !== "role" || caller.sessionName === undefined) {
    return undefined;
  }
  const roleName = caller.roleArn.split("/").at(-1) ?? caller.roleArn;
  return `arn:aws:sts::${caller.accountId}:assumed-role/${roleName}/${caller.sessionName}`;
}

/** S3's canonical user id of an account (the emulator's stand-in: a hash of the account id). */
export function canonicalUserId(accountId: string): string {
  return createHash("sha256").update(accountId).digest("hex");
}

export type AccessRequest = {
  action: string;
  resource: string;
  /** Undefined for calls without a bucket (ListBuckets) or before it exists (CreateBucket). */
  bucket: Bucket | undefined;
  secureTransport: boolean;
  /** The caller's address as the socket saw it (IPv4, or IPv6 such as ::1). */
  sourceIp?: string | undefined;
  /** Operation-specific keys such as s3:x-amz-server-side-encryption. */
  context: Readonly<Record<string, ContextValue | undefined>>;
};

export type AccessDecision =
  | { allowed: true }
  | { allowed: false; message: string }
  /** AWS's documentation does not decide this request; a test relying on it relies on a guess. */
  | { allowed: false; undetermined: true; message: string };

/** Who the evaluator is told is calling: account, principal ARN and, for a session, its ARN. */
function principalOf(caller: Caller | undefined): Principal {
  if (caller === undefined) {
    return { type: "Anonymous" };
  }
  const sessionArn = sessionArnOf(caller);
  return {
    type: "AWS",
    arn: caller.roleArn,
    accountId: caller.accountId,
    canonicalUserId: canonicalUserId(caller.accountId),
    ...(sessionArn === undefined ? {} : { sessionArn }),
  };
}

const PRINCIPAL_TYPES = { role: "AssumedRole", user: "User", root: "Account" } as const;

/**
 * The request context as AWS builds it for S3 (IAM "AWS global condition context keys" and
 * "Principal key values"): one key per line, so that adding one stays a one-line change.
 */
function requestContext(
  caller: Caller | undefined,
  request: AccessRequest,
  now: number,
): Record<string, ContextValue | undefined> {
  const principal: Record<string, ContextValue | undefined> =
    caller === undefined
      ? {
          "aws:PrincipalType": "Anonymous",
          "aws:userid": "anonymous",
        }
      : {
          "aws:PrincipalArn": caller.roleArn,
          "aws:PrincipalAccount": caller.accountId,
          "aws:PrincipalType": PRINCIPAL_TYPES[caller.kind],
          "aws:userid": userIdOf(caller),
          "aws:username": caller.kind === "user" ? caller.roleArn.split("/").at(-1) : undefined,
          "identitystore:userId": caller.identityStoreUserId,
          "aws:TokenIssueTime":
            caller.issuedAt === undefined ? undefined : new Date(caller.issuedAt).toISOString(),
        };
  return {
    "aws:SecureTransport": request.secureTransport ? "true" : "false",
    "aws:SourceIp": request.sourceIp,
    "aws:CurrentTime": new Date(now).toISOString(),
    "aws:EpochTime": String(Math.floor(now / 1000)),
    "aws:ResourceAccount": request.bucket?.accountId,
    ...principal,
    ...request.context,
  };
}

/** `aws:userid`: the role id and session name, the user's id, or the account id for root. */
function userIdOf(caller: Caller): string {
  if (caller.kind === "root") {
    return caller.accountId;
  }
  return caller.kind === "role" && caller.sessionName !== undefined
    ? `${caller.roleId}:${caller.sessionName}`
    : caller.roleId;
}

// The root user has full access unless a policy explicitly denies it (IAM "Policy evaluation
// logic": "all requests are implicitly denied with the exception of the AWS account root user").
const ROOT_IDENTITY_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/**
 * The evaluator's answer for the caller and request, with the bucket's owner as the resource
 * account: in the same account an Allow in the identity OR the bucket policy suffices, across
 * accounts (or anonymously) both sides must allow, an explicit Deny in either wins.
 */
export function decideAccess(
  ctx: EmulatorContext,
  identity: S3Identity,
  request: AccessRequest,
): AccessDecision {
  const caller = identity.kind === "caller" ? identity.caller : undefined;
  const context = requestContext(caller, request, ctx.state.now());
  const identityDocuments = caller?.kind === "root" ? [ROOT_IDENTITY_POLICY] : (caller?.policies ?? []);
  const identityPolicies: ParsedPolicyInput[] = identityDocuments.map((document, index) =>
    parsedOnce("identity", `identity-policy-${index + 1}`, document),
  );
  const bucketPolicy = request.bucket?.policy;
  const resourcePolicies: ParsedPolicyInput[] =
    bucketPolicy === undefined || request.bucket === undefined
      ? []
      : [parsedOnce("resource", `bucket-policy:${request.bucket.name}`, bucketPolicy.document)];
  const evaluation = evaluateParsed(
    {
      principal: principalOf(caller),
      action: request.action,
      resource: request.resource,
      // ListBuckets and CreateBucket have no bucket yet: they concern the caller's own account.
      ...(request.bucket === undefined ? {} : { resourceAccount: request.bucket.accountId }),
      context,
    },
    [...identityPolicies, ...resourcePolicies],
  );
  const who = describeIdentity(identity);
  switch (evaluation.decision) {
    case "Allow":
      return { allowed: true };
    case "ExplicitDeny":
      return { allowed: false, message: explicitDenyMessage(who, request, evaluation) };
    case "ImplicitDeny":
      return { allowed: false, message: implicitDenyMessage(who, request) };
    case "Undetermined":
      return {
        allowed: false,
        undetermined: true,
        message: `The emulator cannot decide ${request.action} on "${request.resource}" for ${who}: ${evaluation.explanation}`,
      };
    default:
      return assertNever(evaluation);
  }
}

export function authorize(ctx: EmulatorContext, identity: S3Identity, request: AccessRequest): void {
  const decision = decideAccess(ctx, identity, request);
  if (decision.allowed) {
    return;
  }
  if ("undetermined" in decision) {
    // Loud and not retried by the SDK: AWS's documentation does not say what S3 would answer.
    throw new AwsError("NotImplemented", decision.message, { status: 501 });
  }
  throw new AwsError("AccessDenied", decision.message, { status: 403 });
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

// AWS's wording, plus the deciding statement so a failing test says which rule refused it.
function explicitDenyMessage(who: string, request: AccessRequest, evaluation: Evaluation): string {
  const deciding = evaluation.decidedBy[0];
  const where = deciding?.kind === "identity" ? "an identity-based policy" : "a resource-based policy";
  const statement =
    deciding === undefined
      ? ""
      : ` (statement ${deciding.sid === undefined ? `#${deciding.index}` : `Sid "${deciding.sid}"`} of ${deciding.policy})`;
  return `User: ${who} is not authorized to perform: ${request.action} on resource: "${request.resource}" with an explicit deny in ${where}${statement}`;
}

function implicitDenyMessage(who: string, request: AccessRequest): string {
  return `User: ${who} is not authorized to perform: ${request.action} on resource: "${request.resource}" because no identity-based or resource-based policy allows the ${request.action} action`;
}

// A stored policy is parsed once, not on every request: a bucket policy near S3's 20 KB (hundreds
// of session cut-offs) would otherwise cost a parse per GetObject. Keyed by the stored document,
// which a PutBucketPolicy replaces rather than edits.
const parsedDocuments = new WeakMap<object, ParsedPolicyInput["policy"]>();

function parsedOnce(kind: "identity" | "resource", name: string, document: unknown): ParsedPolicyInput {
  const key = typeof document === "object" && document !== null ? document : undefined;
  let policy = key === undefined ? undefined : parsedDocuments.get(key);
  if (policy === undefined) {
    const parsed = parsePolicy(document, kind);
    if (!parsed.ok) {
      throw new AwsError(
        "InternalError",
        `Stored policy cannot be evaluated: ${name}: ${parsed.error.message}`,
        {
          status: 500,
        },
      );
    }
    policy = parsed.policy;
    if (key !== undefined) {
      parsedDocuments.set(key, policy);
    }
  }
  return { kind, name, policy };
}
