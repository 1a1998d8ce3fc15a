import type { IncomingMessage, ServerResponse } from "node:http";
import type { JsonObject, SlackResponse } from "./types.js";

// Reading Web API requests the way Slack does: form-encoded bodies carry complex arguments as
// JSON strings; JSON bodies carry them as values but may not carry the token.

/** Form arguments Slack decodes from JSON strings. */
const JSON_FIELDS: ReadonlySet<string> = new Set(["blocks", "attachments", "view", "metadata"]);

export type ParsedRequest =
  | {
      ok: true;
      args: JsonObject;
      encoding: "form" | "json" | "query";
      /** A `token` argument from the form or query string (never honoured from JSON). */
      argToken: string | undefined;
      /** JSON posted without `charset=utf-8`, which Slack answers with a warning. */
      missingCharset: boolean;
    }
  | { ok: false; error: string };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodeJsonField(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    // Left as the raw string; the method then answers invalid_blocks / invalid_arguments.
    return value;
  }
}

function formArgs(params: URLSearchParams): { args: JsonObject; token: string | undefined } {
  const args: JsonObject = {};
  let token: string | undefined;
  for (const [key, value] of params) {
    if (key === "token") {
      token = value;
    } else {
      args[key] = JSON_FIELDS.has(key) ? decodeJsonField(value) : value;
    }
  }
  return { args, token };
}

export function parseRequest(
  contentTypeHeader: string | undefined,
  query: string,
  body: Buffer,
): ParsedRequest {
  const fromQuery = formArgs(new URLSearchParams(query));
  const contentType = (contentTypeHeader ?? "").toLowerCase();
  const mediaType = contentType.split(";")[0]?.trim() ?? "";
  if (body.length === 0) {
    return {
      ok: true,
      args: fromQuery.args,
      encoding: "query",
      argToken: fromQuery.token,
      missingCharset: false,
    };
  }
  if (mediaType === "") {
    return { ok: false, error: "missing_post_type" };
  }
  if (mediaType === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return { ok: false, error: "invalid_json" };
    }
    if (!isObject(parsed)) {
      return { ok: false, error: "invalid_json" };
    }
    const { token: _ignored, ...args } = parsed;
    return {
      ok: true,
      args: { ...fromQuery.args, ...args },
      encoding: "json",
      argToken: fromQuery.token,
      missingCharset: !contentType.includes("charset"),
    };
  }
  if (mediaType === "application/x-www-form-urlencoded" || mediaType === "text/plain") {
    const fromBody = formArgs(new URLSearchParams(body.toString("utf8")));
    return {
      ok: true,
      args: { ...fromQuery.args, ...fromBody.args },
      encoding: "form",
      argToken: fromBody.token ?? fromQuery.token,
      missingCharset: false,
    };
  }
  // multipart/form-data (files.upload) is valid for Slack but nothing Keyturn sends.
  return { ok: false, error: "invalid_post_type" };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: SlackResponse,
  extraHeaders: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...extraHeaders,
  });
  res.end(text);
}

/** Reads a string argument; form values are already strings, JSON ones may be numbers. */
export function stringArg(args: JsonObject, name: string): string | undefined {
  const value = args[name];
  if (typeof value === "string") {
    return value === "" ? undefined : value;
  }
  if (typeof value === "number") {
    return String(value);
  }
  return undefined;
}

/** Form booleans arrive as "true"/"1"; JSON ones as booleans. */
export function boolArg(args: JsonObject, name: string): boolean {
  const value = args[name];
  return value === true || value === "true" || value === "1" || value === 1;
}
