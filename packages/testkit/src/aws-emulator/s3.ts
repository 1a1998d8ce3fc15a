import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { type ContextValue, matchesWildcard, parsePolicy } from "@keyturn/bucket-policy";
import { XMLParser } from "fast-xml-parser";
import type { CallMeta, EmulatorContext } from "./call.js";
import {
  authorize,
  canonicalUserId,
  decideAccess,
  describeIdentity,
  resolveIdentity,
  type S3Identity,
} from "./s3-access.js";
import { type Bucket, type MultipartUpload, newObject, type StoredObject, toStoredPolicy } from "./state.js";
import type { BucketEncryption, SseAlgorithm } from "./types.js";
import { AwsError, isObject, S3_NAMESPACE, XML_DECLARATION, xmlElement } from "./wire.js";

// S3, path style only (clients need forcePathStyle: true). Every call, bucket- or object-level, is
// authorized with the bucket policy and the caller's identity policies before it runs, with the
// request context S3 builds for it (see requestContext in s3-access.ts).
// Not modelled: versioning, ranges, conditional requests, ACLs, CopyObject, UploadPartCopy.

export type S3Route = {
  operation: string;
  action: string;
  bucketName: string | undefined;
  key: string | undefined;
  /** Set when the request cannot be served (bad URI, unsupported operation). */
  error?: AwsError;
};

export type S3Request = {
  route: S3Route;
  method: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  body: Buffer;
  /** The caller's address from the socket: aws:SourceIp. */
  sourceIp?: string | undefined;
};

export type S3Response = { status: number; headers: Record<string, string | number>; body?: Buffer | string };

type OperationInput = S3Request & {
  identity: S3Identity;
  bucket: Bucket | undefined;
  secureTransport: boolean;
};
type S3Handler = (ctx: EmulatorContext, input: OperationInput) => S3Response;

const SUBRESOURCES = new Set([
  "accelerate",
  "acl",
  "analytics",
  "attributes",
  "cors",
  "delete",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "legal-hold",
  "lifecycle",
  "location",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "requestPayment",
  "restore",
  "retention",
  "select",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versioning",
  "versions",
  "website",
]);

/** `<level> <subresource> <method>` -> [operation, IAM action]. */
const OPERATIONS: Readonly<Record<string, readonly [string, string]>> = {
  "service - GET": ["ListBuckets", "s3:ListAllMyBuckets"],
  "bucket - PUT": ["CreateBucket", "s3:CreateBucket"],
  "bucket - HEAD": ["HeadBucket", "s3:ListBucket"],
  "bucket - DELETE": ["DeleteBucket", "s3:DeleteBucket"],
  "bucket - GET": ["ListObjects", "s3:ListBucket"],
  "bucket policy GET": ["GetBucketPolicy", "s3:GetBucketPolicy"],
  "bucket policy PUT": ["PutBucketPolicy", "s3:PutBucketPolicy"],
  "bucket policy DELETE": ["DeleteBucketPolicy", "s3:DeleteBucketPolicy"],
  "bucket encryption GET": ["GetBucketEncryption", "s3:GetEncryptionConfiguration"],
  "bucket encryption PUT": ["PutBucketEncryption", "s3:PutEncryptionConfiguration"],
  "bucket encryption DELETE": ["DeleteBucketEncryption", "s3:PutEncryptionConfiguration"],
  "bucket location GET": ["GetBucketLocation", "s3:GetBucketLocation"],
  "object - PUT": ["PutObject", "s3:PutObject"],
  "object - GET": ["GetObject", "s3:GetObject"],
  "object - HEAD": ["HeadObject", "s3:GetObject"],
  "object - DELETE": ["DeleteObject", "s3:DeleteObject"],
  // S3 "Multipart upload API and permissions": creating, uploading parts and completing are all
  // s3:PutObject.
  "object uploads POST": ["CreateMultipartUpload", "s3:PutObject"],
  "object uploadId PUT": ["UploadPart", "s3:PutObject"],
  "object uploadId POST": ["CompleteMultipartUpload", "s3:PutObject"],
  "object uploadId DELETE": ["AbortMultipartUpload", "s3:AbortMultipartUpload"],
  "object uploadId GET": ["ListParts", "s3:ListMultipartUploadParts"],
  "bucket uploads GET": ["ListMultipartUploads", "s3:ListBucketMultipartUploads"],
};

const POLICY_OPERATIONS = new Set(["GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"]);

export function routeS3(method: string, rawPath: string, query: URLSearchParams): S3Route {
  const path = rawPath.replace(/^\/+/, "");
  const slash = path.indexOf("/");
  let bucketName: string | undefined;
  let key: string | undefined;
  try {
    bucketName = path === "" ? undefined : decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    const rawKey = slash < 0 ? "" : path.slice(slash + 1);
    key = rawKey === "" ? undefined : decodeURIComponent(rawKey);
  } catch {
    return {
      operation: "Unknown",
      action: "s3:*",
      bucketName: undefined,
      key: undefined,
      error: new AwsError("InvalidURI", "Couldn't parse the specified URI."),
    };
  }
  const subresource = [...query.keys()].find((name) => SUBRESOURCES.has(name));
  const level = bucketName === undefined ? "service" : key === undefined ? "bucket" : "object";
  const found = OPERATIONS[`${level} ${subresource ?? "-"} ${method}`];
  if (found === undefined) {
    return {
      operation: `${method} ${level}${subresource === undefined ? "" : `?${subresource}`}`,
      action: "s3:*",
      bucketName,
      key,
      error: new AwsError(
        "NotImplemented",
        "A header or query you provided implies functionality that is not implemented.",
        {
          status: 501,
        },
      ),
    };
  }
  const [operation, action] = found;
  const listV2 = operation === "ListObjects" && query.get("list-type") === "2";
  return { operation: listV2 ? "ListObjectsV2" : operation, action, bucketName, key };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function resourceArn(route: S3Route): string {
  if (route.bucketName === undefined) {
    return "arn:aws:s3:::*";
  }
  return route.key === undefined
    ? `arn:aws:s3:::${route.bucketName}`
    : `arn:aws:s3:::${route.bucketName}/${route.key}`;
}

/**
 * Condition keys that only some operations carry. The SSE headers come with PutObject and
 * CreateMultipartUpload only: UploadPart and CompleteMultipartUpload have none, though they are
 * authorized as s3:PutObject too (S3 API "UploadPart"; aws-cli#4251).
 */
function operationContext(request: S3Request): Record<string, ContextValue | undefined> {
  const { route, headers, query } = request;
  if (route.operation === "PutObject" || route.operation === "CreateMultipartUpload") {
    return {
      "s3:x-amz-server-side-encryption": header(headers, "x-amz-server-side-encryption"),
      "s3:x-amz-server-side-encryption-aws-kms-key-id": header(
        headers,
        "x-amz-server-side-encryption-aws-kms-key-id",
      ),
    };
  }
  if (route.operation === "ListObjects" || route.operation === "ListObjectsV2") {
    return {
      "s3:prefix": query.get("prefix") ?? undefined,
      "s3:delimiter": query.get("delimiter") ?? undefined,
      "s3:max-keys": query.get("max-keys") ?? undefined,
    };
  }
  return {};
}

export function executeS3(ctx: EmulatorContext, request: S3Request, meta: CallMeta): S3Response {
  const { route } = request;
  if (route.error !== undefined) {
    throw route.error;
  }
  const handler = HANDLERS[route.operation];
  if (handler === undefined) {
    throw new AwsError("NotImplemented", `${route.operation} is not implemented by the emulator.`, {
      status: 501,
    });
  }
  const identity = resolveIdentity(ctx, request.headers, request.query);
  meta.caller = describeIdentity(identity);
  const bucket = route.bucketName === undefined ? undefined : ctx.state.buckets.get(route.bucketName);
  if (route.bucketName !== undefined && bucket === undefined && route.operation !== "CreateBucket") {
    throw new AwsError("NoSuchBucket", "The specified bucket does not exist", {
      status: 404,
      fields: { BucketName: route.bucketName },
    });
  }
  // Loopback is treated as TLS, or every k9 policy (DenyInsecureCommunications) would refuse all;
  // a test proves that deny with the header or the fault switch.
  const secureTransport =
    header(request.headers, "x-emulator-insecure") !== "1" && !ctx.faults.settings().insecureTransport;
  if (route.operation === "CreateBucket") {
    // Name and existence come first; the bucket policy of an existing bucket does not apply.
    validateBucketName(route.bucketName ?? "");
  }
  const policyOperation = POLICY_OPERATIONS.has(route.operation);
  const caller = identity.kind === "caller" ? identity.caller : undefined;
  // S3 API "PutBucketPolicy" (and Get/Delete): "the root user of the AWS account that owns a bucket
  // can always use this operation, even if the policy explicitly denies" it: the way out of a
  // lock-out. Nobody else gets past the policy.
  const ownerRoot = caller?.kind === "root" && caller.accountId === bucket?.accountId;
  if (!(policyOperation && ownerRoot)) {
    authorize(ctx, identity, {
      action: route.action,
      resource: resourceArn(route),
      bucket: route.operation === "CreateBucket" ? undefined : bucket,
      secureTransport,
      sourceIp: request.sourceIp,
      context: operationContext(request),
    });
  }
  if (policyOperation && caller?.accountId !== bucket?.accountId) {
    // "If you have the correct permissions, but you're not using an identity that belongs to the
    // bucket owner's account, Amazon S3 returns a 405 Method Not Allowed error."
    throw new AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.", {
      status: 405,
      fields: { Method: request.method, ResourceType: "BUCKETPOLICY" },
    });
  }
  return handler(ctx, { ...request, identity, bucket, secureTransport });
}

// ---- buckets -------------------------------------------------------------------------------

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function validateBucketName(name: string): void {
  if (!BUCKET_NAME.test(name) || name.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new AwsError("InvalidBucketName", "The specified bucket is not valid.", {
      fields: { BucketName: name },
    });
  }
}

function requireBucket(input: OperationInput): Bucket {
  if (input.bucket === undefined) {
    throw new AwsError("NoSuchBucket", "The specified bucket does not exist", { status: 404 });
  }
  return input.bucket;
}

function callerAccount(input: OperationInput): string {
  if (input.identity.kind === "anonymous") {
    throw new AwsError("AccessDenied", "Anonymous users cannot own buckets.", { status: 403 });
  }
  return input.identity.caller.accountId;
}

const createBucket: S3Handler = (ctx, input) => {
  const name = input.route.bucketName ?? "";
  const owner = callerAccount(input);
  const existing = input.bucket;
  if (existing !== undefined) {
    // us-east-1 keeps its legacy behaviour of answering 200 to the owner.
    if (existing.accountId === owner && ctx.state.region === "us-east-1") {
      return { status: 200, headers: { location: `/${name}` } };
    }
    if (existing.accountId === owner) {
      throw new AwsError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        { status: 409, fields: { BucketName: name } },
      );
    }
    throw new AwsError("BucketAlreadyExists", "The requested bucket name is not available.", {
      status: 409,
      fields: { BucketName: name },
    });
  }
  ctx.state.buckets.set(name, {
    name,
    accountId: owner,
    createdAt: ctx.state.now(),
    policy: undefined,
    // Every new bucket gets SSE-S3 by default since January 2023.
    encryption: { sseAlgorithm: "AES256" },
    objects: new Map(),
    uploads: new Map(),
  });
  return { status: 200, headers: { location: `/${name}` } };
};

const deleteBucket: S3Handler = (ctx, input) => {
  const bucket = requireBucket(input);
  if (bucket.objects.size > 0) {
    throw new AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty", {
      status: 409,
      fields: { BucketName: bucket.name },
    });
  }
  ctx.state.buckets.delete(bucket.name);
  return { status: 204, headers: {} };
};

const headBucket: S3Handler = (ctx) => ({
  status: 200,
  headers: { "x-amz-bucket-region": ctx.state.region, "x-amz-access-point-alias": "false" },
});

const getBucketLocation: S3Handler = (ctx) => {
  // us-east-1 is reported as an empty LocationConstraint.
  const region = ctx.state.region === "us-east-1" ? "" : ctx.state.region;
  return xmlResponse(`<LocationConstraint xmlns="${S3_NAMESPACE}">${region}</LocationConstraint>`);
};

const listBuckets: S3Handler = (ctx, input) => {
  const owner = callerAccount(input);
  const buckets = [...ctx.state.buckets.values()].filter((bucket) => bucket.accountId === owner);
  const entries = buckets
    .map(
      (bucket) =>
        `<Bucket>${xmlElement("Name", bucket.name)}${xmlElement("CreationDate", new Date(bucket.createdAt).toISOString())}${xmlElement("BucketRegion", ctx.state.region)}</Bucket>`,
    )
    .join("");
  return xmlResponse(
    `<ListAllMyBucketsResult xmlns="${S3_NAMESPACE}"><Owner>${xmlElement("ID", canonicalUserId(owner))}${xmlElement("DisplayName", `account-${owner}`)}</Owner><Buckets>${entries}</Buckets></ListAllMyBucketsResult>`,
  );
};

// ---- policy and encryption -----------------------------------------------------------------

const MAX_POLICY_BYTES = 20 * 1024;

function malformedPolicy(message: string): AwsError {
  return new AwsError("MalformedPolicy", message);
}

const putBucketPolicy: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  if (input.body.length > MAX_POLICY_BYTES) {
    throw malformedPolicy("Policies must be less than 20 KB.");
  }
  const text = input.body.toString("utf8");
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  }
  const parsed = parsePolicy(document, "resource");
  if (!parsed.ok) {
    throw malformedPolicy(parsed.error.message);
  }
  // AWS refuses resources outside the bucket the policy is attached to.
  const bucketArn = `arn:aws:s3:::${bucket.name}`;
  for (const statement of parsed.policy.statements) {
    if (statement.resource.negated) {
      continue;
    }
    for (const resource of statement.resource.value) {
      const withinBucket =
        resource === bucketArn ||
        resource.startsWith(`${bucketArn}/`) ||
        matchesWildcard(resource, bucketArn) ||
        matchesWildcard(resource, `${bucketArn}/x`);
      if (!withinBucket) {
        throw malformedPolicy("Policy has invalid resource");
      }
    }
  }
  bucket.policy = toStoredPolicy(text);
  return { status: 204, headers: {} };
};

const getBucketPolicy: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  if (bucket.policy === undefined) {
    throw new AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", {
      status: 404,
      fields: { BucketName: bucket.name },
    });
  }
  return { status: 200, headers: { "content-type": "application/json" }, body: bucket.policy.text };
};

const deleteBucketPolicy: S3Handler = (_ctx, input) => {
  requireBucket(input).policy = undefined;
  return { status: 204, headers: {} };
};

const getBucketEncryption: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  const encryption = bucket.encryption;
  if (encryption === null) {
    throw new AwsError(
      "ServerSideEncryptionConfigurationNotFoundError",
      "The server side encryption configuration was not found",
      { status: 404, fields: { BucketName: bucket.name } },
    );
  }
  const byDefault = `<ApplyServerSideEncryptionByDefault>${xmlElement("SSEAlgorithm", encryption.sseAlgorithm)}${xmlElement("KMSMasterKeyID", encryption.kmsMasterKeyId)}</ApplyServerSideEncryptionByDefault>`;
  return xmlResponse(
    `<ServerSideEncryptionConfiguration xmlns="${S3_NAMESPACE}"><Rule>${byDefault}${xmlElement("BucketKeyEnabled", encryption.bucketKeyEnabled ?? false)}</Rule></ServerSideEncryptionConfiguration>`,
  );
};

const SSE_ALGORITHMS: readonly SseAlgorithm[] = ["AES256", "aws:kms", "aws:kms:dsse"];

function asSseAlgorithm(value: unknown): SseAlgorithm | undefined {
  return SSE_ALGORITHMS.find((algorithm) => algorithm === value);
}

const encryptionParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === "Rule",
});

function malformedXml(): AwsError {
  return new AwsError(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema",
  );
}

function parseXmlBody(parser: XMLParser, body: Buffer): unknown {
  try {
    return parser.parse(body.toString("utf8"));
  } catch {
    throw malformedXml();
  }
}

const putBucketEncryption: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  const parsed = parseXmlBody(encryptionParser, input.body);
  const configuration = isObject(parsed) ? parsed.ServerSideEncryptionConfiguration : undefined;
  const rules = isObject(configuration) ? configuration.Rule : undefined;
  const rule: unknown = Array.isArray(rules) ? rules[0] : undefined;
  const byDefault = isObject(rule) ? rule.ApplyServerSideEncryptionByDefault : undefined;
  const algorithm = isObject(byDefault) ? asSseAlgorithm(byDefault.SSEAlgorithm) : undefined;
  if (!isObject(rule) || !isObject(byDefault) || algorithm === undefined) {
    throw malformedXml();
  }
  const keyId = byDefault.KMSMasterKeyID;
  const encryption: BucketEncryption = {
    sseAlgorithm: algorithm,
    ...(typeof keyId === "string" && keyId !== "" ? { kmsMasterKeyId: keyId } : {}),
    bucketKeyEnabled: rule.BucketKeyEnabled === "true",
  };
  bucket.encryption = encryption;
  return { status: 200, headers: {} };
};

const deleteBucketEncryption: S3Handler = (_ctx, input) => {
  // As in AWS, removing the configuration falls back to the SSE-S3 default, not to "none".
  requireBucket(input).encryption = { sseAlgorithm: "AES256" };
  return { status: 204, headers: {} };
};

// ---- objects -------------------------------------------------------------------------------

function objectHeaders(object: StoredObject): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    "content-type": object.contentType,
    etag: object.etag,
    "last-modified": new Date(object.lastModified).toUTCString(),
    "accept-ranges": "bytes",
  };
  if (object.sse !== undefined) {
    headers["x-amz-server-side-encryption"] = object.sse;
  }
  if (object.sseKmsKeyId !== undefined) {
    headers["x-amz-server-side-encryption-aws-kms-key-id"] = object.sseKmsKeyId;
  }
  for (const [name, value] of Object.entries(object.metadata)) {
    headers[`x-amz-meta-${name}`] = value;
  }
  return headers;
}

const putObject: S3Handler = (ctx, input) => {
  const bucket = requireBucket(input);
  if (header(input.headers, "x-amz-copy-source") !== undefined) {
    throw new AwsError("NotImplemented", "CopyObject is not implemented by the emulator.", { status: 501 });
  }
  const { sse, kmsKeyId } = encryptionOf(ctx, bucket, input.headers);
  const object = newObject(
    input.body,
    header(input.headers, "content-type") ?? "binary/octet-stream",
    ctx.state.now(),
    metadataOf(input.headers),
    sse,
    kmsKeyId,
  );
  bucket.objects.set(input.route.key ?? "", object);
  return { status: 200, headers: { etag: object.etag, ...encryptionHeaders(sse, kmsKeyId) } };
};

function metadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string") {
      metadata[name.slice("x-amz-meta-".length)] = value;
    }
  }
  return metadata;
}

function encryptionHeaders(
  sse: SseAlgorithm | undefined,
  kmsKeyId: string | undefined,
): Record<string, string> {
  return {
    ...(sse === undefined ? {} : { "x-amz-server-side-encryption": sse }),
    ...(kmsKeyId === undefined ? {} : { "x-amz-server-side-encryption-aws-kms-key-id": kmsKeyId }),
  };
}

/**
 * How S3 encrypts a new object (S3 API "PutObject", "CreateMultipartUpload"): with the request's
 * x-amz-server-side-encryption if it names one, otherwise with the bucket's default encryption.
 * SSE-KMS without a key id in the request uses the AWS managed key aws/s3, not the bucket
 * default's key; without any header the bucket default's key (or aws/s3) applies.
 */
function encryptionOf(
  ctx: EmulatorContext,
  bucket: Bucket,
  headers: IncomingHttpHeaders,
): { sse: SseAlgorithm | undefined; kmsKeyId: string | undefined } {
  const requested = header(headers, "x-amz-server-side-encryption");
  const requestedKey = header(headers, "x-amz-server-side-encryption-aws-kms-key-id");
  const sse = requested === undefined ? bucket.encryption?.sseAlgorithm : asSseAlgorithm(requested);
  if (requested !== undefined && sse === undefined) {
    throw new AwsError("InvalidArgument", "The encryption method specified is not supported", {
      fields: { ArgumentName: "x-amz-server-side-encryption", ArgumentValue: requested },
    });
  }
  const usesKms = sse === "aws:kms" || sse === "aws:kms:dsse";
  if (requestedKey !== undefined && (requested === undefined || !usesKms)) {
    throw new AwsError(
      "InvalidArgument",
      "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
      { fields: { ArgumentName: "x-amz-server-side-encryption-aws-kms-key-id" } },
    );
  }
  if (!usesKms) {
    return { sse, kmsKeyId: undefined };
  }
  const awsManagedKey = `arn:aws:kms:${ctx.state.region}:${bucket.accountId}:alias/aws/s3`;
  const kmsKeyId =
    requested === undefined
      ? (bucket.encryption?.kmsMasterKeyId ?? awsManagedKey)
      : (requestedKey ?? awsManagedKey);
  return { sse, kmsKeyId };
}

/** A missing key is NoSuchKey only to callers who may list the bucket; others get AccessDenied. */
function requireObject(ctx: EmulatorContext, input: OperationInput): StoredObject {
  const bucket = requireBucket(input);
  const key = input.route.key ?? "";
  const object = bucket.objects.get(key);
  if (object !== undefined) {
    return object;
  }
  const mayList = decideAccess(ctx, input.identity, {
    action: "s3:ListBucket",
    resource: `arn:aws:s3:::${bucket.name}`,
    bucket,
    secureTransport: input.secureTransport,
    context: {},
  });
  if (!mayList.allowed) {
    throw new AwsError("AccessDenied", "Access Denied", { status: 403 });
  }
  throw new AwsError("NoSuchKey", "The specified key does not exist.", { status: 404, fields: { Key: key } });
}

const getObject: S3Handler = (ctx, input) => {
  const object = requireObject(ctx, input);
  return { status: 200, headers: objectHeaders(object), body: object.body };
};

const headObject: S3Handler = (ctx, input) => {
  const object = requireObject(ctx, input);
  return { status: 200, headers: { ...objectHeaders(object), "content-length": object.body.length } };
};

const deleteObject: S3Handler = (_ctx, input) => {
  requireBucket(input).objects.delete(input.route.key ?? "");
  return { status: 204, headers: {} };
};

// ---- multipart uploads ---------------------------------------------------------------------

const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

function requireUpload(input: OperationInput): MultipartUpload {
  const bucket = requireBucket(input);
  const uploadId = input.query.get("uploadId") ?? "";
  const upload = bucket.uploads.get(uploadId);
  if (upload === undefined || upload.key !== (input.route.key ?? "")) {
    throw new AwsError(
      "NoSuchUpload",
      "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
      { status: 404, fields: { UploadId: uploadId } },
    );
  }
  return upload;
}

const createMultipartUpload: S3Handler = (ctx, input) => {
  const bucket = requireBucket(input);
  const key = input.route.key ?? "";
  // The encryption is fixed now, from this request's headers or the bucket default: the parts
  // carry none.
  const { sse, kmsKeyId } = encryptionOf(ctx, bucket, input.headers);
  const uploadId = ctx.state.ids.alnum(64);
  bucket.uploads.set(uploadId, {
    uploadId,
    key,
    initiated: ctx.state.now(),
    contentType: header(input.headers, "content-type") ?? "binary/octet-stream",
    metadata: metadataOf(input.headers),
    sse,
    kmsKeyId,
    parts: new Map(),
  });
  const response = xmlResponse(
    `<InitiateMultipartUploadResult xmlns="${S3_NAMESPACE}">${xmlElement("Bucket", bucket.name)}${xmlElement("Key", key)}${xmlElement("UploadId", uploadId)}</InitiateMultipartUploadResult>`,
  );
  return { ...response, headers: { ...response.headers, ...encryptionHeaders(sse, kmsKeyId) } };
};

const uploadPart: S3Handler = (ctx, input) => {
  if (header(input.headers, "x-amz-copy-source") !== undefined) {
    throw new AwsError("NotImplemented", "UploadPartCopy is not implemented by the emulator.", {
      status: 501,
    });
  }
  const upload = requireUpload(input);
  const raw = input.query.get("partNumber") ?? "";
  const partNumber = Number(raw);
  if (!/^\d+$/.test(raw) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new AwsError("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", {
      fields: { ArgumentName: "partNumber", ArgumentValue: raw },
    });
  }
  const etag = `"${createHash("md5").update(input.body).digest("hex")}"`;
  upload.parts.set(partNumber, { body: input.body, etag, lastModified: ctx.state.now() });
  return { status: 200, headers: { etag, ...encryptionHeaders(upload.sse, upload.kmsKeyId) } };
};

const completeParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === "Part",
});

const completeMultipartUpload: S3Handler = (ctx, input) => {
  const bucket = requireBucket(input);
  const upload = requireUpload(input);
  const parsed = parseXmlBody(completeParser, input.body);
  const root = isObject(parsed) ? parsed.CompleteMultipartUpload : undefined;
  const listed = isObject(root) && Array.isArray(root.Part) ? (root.Part as unknown[]) : [];
  if (listed.length === 0) {
    throw malformedXml();
  }
  const chosen = listed.map((entry) => {
    const part = isObject(entry) ? entry : {};
    const partNumber = Number(part.PartNumber);
    const etag = typeof part.ETag === "string" ? part.ETag.replaceAll('"', "") : "";
    const stored = upload.parts.get(partNumber);
    if (stored === undefined || stored.etag.replaceAll('"', "") !== etag) {
      throw new AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
        { fields: { UploadId: upload.uploadId, PartNumber: String(part.PartNumber) } },
      );
    }
    return { partNumber, stored };
  });
  if (
    chosen.some(({ partNumber }, index) => index > 0 && (chosen[index - 1]?.partNumber ?? 0) >= partNumber)
  ) {
    throw new AwsError(
      "InvalidPartOrder",
      "The list of parts was not in ascending order. Parts must be ordered by part number.",
      { fields: { UploadId: upload.uploadId } },
    );
  }
  const small = chosen.find(
    ({ stored }, index) => index < chosen.length - 1 && stored.body.length < MIN_PART_BYTES,
  );
  if (small !== undefined) {
    throw new AwsError(
      "EntityTooSmall",
      "Your proposed upload is smaller than the minimum allowed object size.",
      {
        fields: {
          ProposedSize: small.stored.body.length,
          MinSizeAllowed: MIN_PART_BYTES,
          PartNumber: small.partNumber,
        },
      },
    );
  }
  const object = newObject(
    Buffer.concat(chosen.map(({ stored }) => stored.body)),
    upload.contentType,
    ctx.state.now(),
    upload.metadata,
    upload.sse,
    upload.kmsKeyId,
  );
  // A multipart ETag is the MD5 of the parts' binary MD5s, with the number of parts.
  const digests = Buffer.concat(
    chosen.map(({ stored }) => Buffer.from(stored.etag.replaceAll('"', ""), "hex")),
  );
  object.etag = `"${createHash("md5").update(digests).digest("hex")}-${chosen.length}"`;
  bucket.objects.set(upload.key, object);
  bucket.uploads.delete(upload.uploadId);
  const response = xmlResponse(
    `<CompleteMultipartUploadResult xmlns="${S3_NAMESPACE}">${xmlElement("Location", `/${bucket.name}/${upload.key}`)}${xmlElement("Bucket", bucket.name)}${xmlElement("Key", upload.key)}${xmlElement("ETag", object.etag)}</CompleteMultipartUploadResult>`,
  );
  return { ...response, headers: { ...response.headers, ...encryptionHeaders(upload.sse, upload.kmsKeyId) } };
};

const abortMultipartUpload: S3Handler = (_ctx, input) => {
  const upload = requireUpload(input);
  requireBucket(input).uploads.delete(upload.uploadId);
  return { status: 204, headers: {} };
};

const listParts: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  const upload = requireUpload(input);
  const marker = Number(input.query.get("part-number-marker") ?? "0");
  const maxParts = Math.min(Number(input.query.get("max-parts") ?? "1000") || 1000, 1000);
  const numbers = [...upload.parts.keys()].filter((number) => number > marker).sort((a, b) => a - b);
  const shown = numbers.slice(0, maxParts);
  const truncated = numbers.length > shown.length;
  const parts = shown
    .map((number) => {
      const part = upload.parts.get(number);
      return part === undefined
        ? ""
        : `<Part>${xmlElement("PartNumber", number)}${xmlElement("LastModified", new Date(part.lastModified).toISOString())}${xmlElement("ETag", part.etag)}${xmlElement("Size", part.body.length)}</Part>`;
    })
    .join("");
  return xmlResponse(
    `<ListPartsResult xmlns="${S3_NAMESPACE}">${xmlElement("Bucket", bucket.name)}${xmlElement("Key", upload.key)}${xmlElement("UploadId", upload.uploadId)}${xmlElement("PartNumberMarker", marker)}${xmlElement("NextPartNumberMarker", truncated ? shown.at(-1) : undefined)}${xmlElement("MaxParts", maxParts)}${xmlElement("IsTruncated", truncated)}<StorageClass>STANDARD</StorageClass>${parts}</ListPartsResult>`,
  );
};

const listMultipartUploads: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  const prefix = input.query.get("prefix") ?? "";
  const uploads = [...bucket.uploads.values()]
    .filter((upload) => upload.key.startsWith(prefix))
    .sort((a, b) => (a.key === b.key ? a.initiated - b.initiated : a.key < b.key ? -1 : 1))
    .map(
      (upload) =>
        `<Upload>${xmlElement("Key", upload.key)}${xmlElement("UploadId", upload.uploadId)}${xmlElement("Initiated", new Date(upload.initiated).toISOString())}<StorageClass>STANDARD</StorageClass></Upload>`,
    )
    .join("");
  return xmlResponse(
    `<ListMultipartUploadsResult xmlns="${S3_NAMESPACE}">${xmlElement("Bucket", bucket.name)}${xmlElement("Prefix", prefix)}${xmlElement("MaxUploads", 1000)}${xmlElement("IsTruncated", false)}${uploads}</ListMultipartUploadsResult>`,
  );
};

// ---- listing -------------------------------------------------------------------------------

type ListEntry = { sortKey: string; object?: StoredObject };

/** Objects and common prefixes in key order; a common prefix sorts where its first key would. */
function listEntries(bucket: Bucket, prefix: string, delimiter: string): ListEntry[] {
  const keys = [...bucket.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  const entries: ListEntry[] = [];
  let lastPrefix: string | undefined;
  for (const key of keys) {
    const cut = delimiter === "" ? -1 : key.indexOf(delimiter, prefix.length);
    if (cut >= 0) {
      const common = key.slice(0, cut + delimiter.length);
      if (common !== lastPrefix) {
        entries.push({ sortKey: common });
        lastPrefix = common;
      }
      continue;
    }
    const object = bucket.objects.get(key);
    if (object !== undefined) {
      entries.push({ sortKey: key, object });
    }
  }
  return entries;
}

function readMaxKeys(query: URLSearchParams): number {
  const raw = query.get("max-keys");
  if (raw === null) {
    return 1000;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new AwsError("InvalidArgument", "Provided max-keys not an integer or within integer range", {
      fields: { ArgumentName: "max-keys", ArgumentValue: raw },
    });
  }
  return Math.min(value, 1000);
}

function renderEntries(entries: readonly ListEntry[]): string {
  return entries
    .map((entry) =>
      entry.object === undefined
        ? `<CommonPrefixes>${xmlElement("Prefix", entry.sortKey)}</CommonPrefixes>`
        : `<Contents>${xmlElement("Key", entry.sortKey)}${xmlElement("LastModified", new Date(entry.object.lastModified).toISOString())}${xmlElement("ETag", entry.object.etag)}${xmlElement("Size", entry.object.body.length)}<StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join("");
}

function page(entries: readonly ListEntry[], marker: string, maxKeys: number) {
  const remaining = entries.filter((entry) => entry.sortKey > marker);
  const shown = remaining.slice(0, maxKeys);
  return { shown, truncated: remaining.length > shown.length, last: shown.at(-1)?.sortKey };
}

const listObjectsV2: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  const { query } = input;
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxKeys = readMaxKeys(query);
  const token = query.get("continuation-token");
  let marker = query.get("start-after") ?? "";
  if (token !== null) {
    marker = Buffer.from(token, "base64url").toString("utf8");
    if (token === "" || marker === "") {
      throw new AwsError("InvalidArgument", "The continuation token provided is incorrect", {
        fields: { ArgumentName: "continuation-token" },
      });
    }
  }
  const { shown, truncated, last } = page(listEntries(bucket, prefix, delimiter), marker, maxKeys);
  const next = truncated && last !== undefined ? Buffer.from(last).toString("base64url") : undefined;
  return xmlResponse(
    `<ListBucketResult xmlns="${S3_NAMESPACE}">${xmlElement("Name", bucket.name)}${xmlElement("Prefix", prefix)}${delimiter === "" ? "" : xmlElement("Delimiter", delimiter)}${xmlElement("MaxKeys", maxKeys)}${xmlElement("KeyCount", shown.length)}${xmlElement("IsTruncated", truncated)}${xmlElement("ContinuationToken", token ?? undefined)}${xmlElement("NextContinuationToken", next)}${xmlElement("StartAfter", query.get("start-after") ?? undefined)}${renderEntries(shown)}</ListBucketResult>`,
  );
};

const listObjects: S3Handler = (_ctx, input) => {
  const bucket = requireBucket(input);
  const { query } = input;
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const marker = query.get("marker") ?? "";
  const maxKeys = readMaxKeys(query);
  const { shown, truncated, last } = page(listEntries(bucket, prefix, delimiter), marker, maxKeys);
  return xmlResponse(
    `<ListBucketResult xmlns="${S3_NAMESPACE}">${xmlElement("Name", bucket.name)}${xmlElement("Prefix", prefix)}${xmlElement("Marker", marker)}${delimiter === "" ? "" : xmlElement("Delimiter", delimiter)}${xmlElement("MaxKeys", maxKeys)}${xmlElement("IsTruncated", truncated)}${xmlElement("NextMarker", truncated ? last : undefined)}${renderEntries(shown)}</ListBucketResult>`,
  );
};

function xmlResponse(xml: string): S3Response {
  return { status: 200, headers: { "content-type": "application/xml" }, body: `${XML_DECLARATION}${xml}` };
}

const HANDLERS: Readonly<Record<string, S3Handler>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  DeleteBucket: deleteBucket,
  HeadBucket: headBucket,
  GetBucketLocation: getBucketLocation,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  PutBucketPolicy: putBucketPolicy,
  GetBucketPolicy: getBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketEncryption: getBucketEncryption,
  PutBucketEncryption: putBucketEncryption,
  DeleteBucketEncryption: deleteBucketEncryption,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
};
