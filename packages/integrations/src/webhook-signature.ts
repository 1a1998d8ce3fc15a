import { createHmac, timingSafeEqual } from "node:crypto";
import type { WebhookRejection, WebhookVerification } from "@keyturn/core";

// What verifying Jira's and Linear's webhooks shares: the raw body as bytes, one header read the
// same way however a framework hands headers over, the size bound checked before any hashing,
// and an HMAC-SHA256 comparison that takes the same time wherever the candidate differs.

export type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export type WebhookInput = {
  /** The body exactly as received: never a re-serialized parse. */
  rawBody: Buffer | string;
  headers: RawHeaders;
  /** The shared secret; several while one is being rotated out. */
  secret: string | readonly string[];
  /** Default 1 MiB. */
  maxBodyBytes?: number;
};

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

export function header(headers: RawHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) {
      return typeof value === "string" ? value : value?.[0];
    }
  }
  return undefined;
}

export function reject(reason: WebhookRejection, message: string): WebhookVerification {
  return { ok: false, reason, message };
}

function bodyBytes(input: WebhookInput): Buffer | WebhookVerification {
  const body = typeof input.rawBody === "string" ? Buffer.from(input.rawBody, "utf8") : input.rawBody;
  const max = input.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return body.length > max
    ? reject("body_too_large", `the body has ${body.length} bytes, more than ${max}`)
    : body;
}

/** Whether `candidateHex` is the HMAC-SHA256 of `body` under any of the secrets. */
function hmacMatches(secret: string | readonly string[], body: Buffer, candidateHex: string): boolean {
  if (!HEX_SHA256.test(candidateHex)) {
    return false;
  }
  const candidate = Buffer.from(candidateHex, "hex");
  const secrets = typeof secret === "string" ? [secret] : secret;
  let matched = false;
  for (const key of secrets) {
    if (key === "") {
      continue;
    }
    const expected = createHmac("sha256", key).update(body).digest();
    // Every secret is tried, so the time taken does not say which one matched.
    matched = timingSafeEqual(expected, candidate) || matched;
  }
  return matched;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export type SignatureScheme = {
  /** The header carrying the signature. */
  header: string;
  /** The hex digest inside the header's value, if the value has the provider's form. */
  digest: (value: string) => string | undefined;
  missing: string;
  mismatch: string;
};

type Rejected = Extract<WebhookVerification, { ok: false }>;

/**
 * The body's JSON, once its size and HMAC check out (the body is parsed only after that), or
 * why the delivery is rejected. `json` is undefined when the signed body is not JSON.
 */
export function readSignedJson(input: WebhookInput, scheme: SignatureScheme): { json: unknown } | Rejected {
  const body = bodyBytes(input);
  if (!Buffer.isBuffer(body)) {
    return body as Rejected;
  }
  const value = header(input.headers, scheme.header)?.trim();
  if (value === undefined || value === "") {
    return reject("missing_signature", scheme.missing) as Rejected;
  }
  const digest = scheme.digest(value);
  if (digest === undefined || !hmacMatches(input.secret, body, digest)) {
    return reject("bad_signature", scheme.mismatch) as Rejected;
  }
  return { json: parseJson(body) };
}
