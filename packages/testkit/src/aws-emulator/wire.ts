import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceName } from "./types.js";

export type JsonObject = { [key: string]: unknown };

/** An error the emulated service returns to the client (as opposed to a bug in the emulator). */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra members of the error shape (ResourceType, Reason, BucketName, ...). */
  readonly fields: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { status?: number; fields?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = options.status ?? 400;
    this.fields = options.fields ?? {};
  }
}

const S3_STATUS: Readonly<Record<string, number>> = {
  AccessDenied: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchBucketPolicy: 404,
  ServerSideEncryptionConfigurationNotFoundError: 404,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  InternalError: 500,
  NotImplemented: 501,
  SlowDown: 503,
  ServiceUnavailable: 503,
};

const PORTAL_STATUS: Readonly<Record<string, number>> = {
  UnauthorizedException: 401,
  ForbiddenException: 403,
  ResourceNotFoundException: 404,
  TooManyRequestsException: 429,
};

/** The status AWS would send with an error code, for injected faults. */
export function defaultStatus(service: ServiceName, code: string): number {
  if (service === "s3") {
    return S3_STATUS[code] ?? 400;
  }
  if (service === "sso-portal") {
    return PORTAL_STATUS[code] ?? 400;
  }
  if (code === "InternalServerException" || code === "InternalFailure") {
    return 500;
  }
  if (code === "ServiceUnavailable" || code === "ServiceUnavailableException") {
    return 503;
  }
  return 400;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

export function send(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string | number>>,
  body?: Buffer | string,
): void {
  const payload = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    ...headers,
    ...(payload === undefined ? {} : { "content-length": payload.length }),
  });
  res.end(payload);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  send(res, status, { "content-type": "application/json", ...headers }, JSON.stringify(body));
}

/** Epoch seconds as a JSON number: the awsJson1_1 timestamp format. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** `<Name>value</Name>`, escaped; omitted when the value is undefined. */
export function xmlElement(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) {
    return "";
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

/**
 * Decodes an `aws-chunked` body: `<hex size>[;chunk-signature=...]\r\n<data>\r\n` repeated, a zero
 * chunk, then trailers (the SDK puts its `x-amz-checksum-*` there). Trailers are not verified.
 */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd < 0) {
      throw new AwsError("IncompleteBody", "The aws-chunked body ended inside a chunk header.");
    }
    const sizeText = body.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "";
    const size = Number.parseInt(sizeText.trim(), 16);
    if (!Number.isFinite(size) || size < 0) {
      throw new AwsError("InvalidChunkSizeError", "The aws-chunked body has an invalid chunk size.");
    }
    const dataStart = lineEnd + 2;
    if (size === 0) {
      break;
    }
    if (dataStart + size > body.length) {
      throw new AwsError("IncompleteBody", "The aws-chunked body is shorter than its chunk sizes.");
    }
    parts.push(body.subarray(dataStart, dataStart + size));
    offset = dataStart + size + 2;
  }
  return Buffer.concat(parts);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
