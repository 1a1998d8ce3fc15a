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
  const { roleArn, accountId, sessionName } = identity.caller;
  if (sessionName === undefined) {
    return roleArn;
  }
  const roleName = roleArn.split("/").at(-1) ?? roleArn;
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

export type AccessRequest = {
  action: string;
  resource: string;
  /** Undefined for calls without a bucket (ListBuckets) or before it exists (CreateBucket). */
  bucket: Bucket | undefined;
  secureTransport: boolean;
  /** Operation-specific keys such as s3:x-amz-server-side-encryption. */
  context: Readonly<Record<string, ContextValue | undefined>>;
};

export type AccessDecision = { allowed: true } | { allowed: false; message: string };

/**
 * Same account: an Allow in the identity OR the bucket policy suffices, an explicit Deny in either
 * wins. Across accounts (or anonymous) both sides must allow, as AWS requires.
 */
export function decideAccess(
  ctx: EmulatorContext,
  identity: S3Identity,
  request: AccessRequest,
): AccessDecision {
  const caller = identity.kind === "caller" ? identity.caller : undefined;
  const now = ctx.state.now();
  const principal: Principal =
    caller === undefined
      ? { type: "Anonymous" }
      : { type: "AWS", arn: caller.roleArn, accountId: caller.accountId };
  const context: Record<string, ContextValue | undefined> = {
    "aws:SecureTransport": request.secureTransport ? "true" : "false",
    "aws:CurrentTime": new Date(now).toISOString(),
    "aws:EpochTime": String(Math.floor(now / 1000)),
    "aws:ResourceAccount": request.bucket?.accountId,
    ...(caller === undefined
      ? {}
      : {
          "aws:PrincipalArn": caller.roleArn,
          "aws:PrincipalAccount": caller.accountId,
          "aws:PrincipalType": "AssumedRole",
          "aws:userid":
            caller.sessionName === undefined ? caller.roleId : `${caller.roleId}:${caller.sessionName}`,
          "identitystore:userId": caller.identityStoreUserId,
          "aws:TokenIssueTime":
            caller.issuedAt === undefined ? undefined : new Date(caller.issuedAt).toISOString(),
        }),
    ...request.context,
  };
  const identityPolicies: ParsedPolicyInput[] = (caller?.policies ?? []).map((document, index) =>
    parsedOnce("identity", `identity-policy-${index + 1}`, document),
  );
  const bucketPolicy = request.bucket?.policy;
  const resourcePolicies: ParsedPolicyInput[] =
    bucketPolicy === undefined || request.bucket === undefined
      ? []
      : [parsedOnce("resource", `bucket-policy:${request.bucket.name}`, bucketPolicy.document)];
  const run = (policies: readonly ParsedPolicyInput[]): Evaluation =>
    evaluateParsed({ principal, action: request.action, resource: request.resource, context }, policies);

  const who = describeIdentity(identity);
  const all = run([...identityPolicies, ...resourcePolicies]);
  if (all.decision === "ExplicitDeny") {
    return { allowed: false, message: explicitDenyMessage(who, request, all) };
  }
  const sameAccount =
    caller !== undefined && (request.bucket === undefined || request.bucket.accountId === caller.accountId);
  if (sameAccount) {
    return all.decision === "Allow"
      ? { allowed: true }
      : { allowed: false, message: implicitDenyMessage(who, request) };
  }
  const identityAllows = caller === undefined || run(identityPolicies).decision === "Allow";
  const resourceAllows = run(resourcePolicies).decision === "Allow";
  return identityAllows && resourceAllows
    ? { allowed: true }
    : { allowed: false, message: implicitDenyMessage(who, request) };
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

export function authorize(ctx: EmulatorContext, identity: S3Identity, request: AccessRequest): void {
  const decision = decideAccess(ctx, identity, request);
  if (!decision.allowed) {
    throw new AwsError("AccessDenied", decision.message, { status: 403 });
  }
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
