// The REST client, typed by the paths generated from the API's OpenAPI document (openapi.json →
// src/generated/api.d.ts by `pnpm generate`). Every call goes through `call`, which turns the
// API's problem details and network failures into one-line CliErrors.
import createClient, { type Client } from "openapi-fetch";
import { CliError } from "./cli-error.js";
import type { components, paths } from "./generated/api.js";

export type ApiClient = Client<paths>;
export type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

export const LOGIN_HINT = "run 'keyturn login' to sign in again";

export function createApiClient(options: { baseUrl: string; token?: string; userAgent: string }): ApiClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: {
      "user-agent": options.userAgent,
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    },
  });
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { code?: unknown }).code === "string" &&
    typeof (value as { detail?: unknown }).detail === "string"
  );
}

/** The API's problem as the one line a person reads: code, detail, field errors and status. */
function problemLine(problem: Problem, status: number): string {
  const fields = (problem.errors ?? []).map((e) => `${e.path === "" ? "(body)" : e.path}: ${e.message}`);
  const detail = fields.length === 0 ? problem.detail : `${problem.detail} (${fields.join("; ")})`;
  const line = `${problem.code}: ${detail} (HTTP ${status})`;
  return status === 401 ? `${line}; ${LOGIN_HINT}` : line;
}

function problemError(error: unknown, response: Response): CliError {
  if (isProblem(error)) {
    return new CliError(problemLine(error, response.status));
  }
  const text = typeof error === "string" ? error.slice(0, 200) : JSON.stringify(error)?.slice(0, 200);
  return new CliError(`HTTP ${response.status} ${response.statusText} from ${response.url}: ${text ?? ""}`);
}

function networkError(cause: unknown): CliError {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  const reason = inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : String(cause));
  return new CliError(`cannot reach the Keyturn API (${reason}); check KEYTURN_API_URL or 'keyturn config'`);
}

/** Awaits one client call: its data on success, a CliError otherwise. */
export async function call<Data>(
  pending: Promise<{ data?: Data; error?: unknown; response: Response }>,
): Promise<Data> {
  let result: { data?: Data; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (error) {
    throw networkError(error);
  }
  if (!result.response.ok || result.error !== undefined) {
    throw problemError(result.error, result.response);
  }
  return result.data as Data;
}
