import { call } from "../api-client.js";
import { CliError, usageError } from "../cli-error.js";
import { type Command, emit, stringOption } from "../command.js";

export const auditVerify: Command = {
  path: ["audit", "verify"],
  summary: "walk the audit log's hash chain; exit 1 at the first broken link",
  usage: "[--json]",
  examples: ["keyturn audit verify"],
  async run(context) {
    const api = await context.api();
    const result = await call(api.GET("/v1/audit/verify"));
    emit(context, result, () =>
      result.ok
        ? `audit chain intact: ${result.events} events, head ${result.head}\n`
        : `audit chain BROKEN at seq ${result.brokenAt.seq} (event ${result.brokenAt.id}): ${result.brokenAt.reason}, after ${result.events} events\n`,
    );
    return result.ok ? 0 : 1;
  },
};

export const auditExport: Command = {
  path: ["audit", "export"],
  summary: "print the audit log as NDJSON (one event per line, in chain order)",
  usage: "[--since <ISO time>]",
  description:
    "--since keeps the events at or after that time. The output is NDJSON either way (--json changes nothing);\n" +
    "verify a copy with 'keyturn audit verify' against the live chain.",
  examples: ["keyturn audit export > audit.ndjson", "keyturn audit export --since 2026-12-01T00:00:00Z"],
  options: {
    since: { type: "string", label: "--since <time>", description: "only events at or after this time" },
  },
  async run(context, input) {
    const since = stringOption(input, "since");
    const sinceMs = since === undefined ? undefined : Date.parse(since);
    if (sinceMs !== undefined && Number.isNaN(sinceMs)) {
      throw usageError(`--since must be an ISO 8601 time, got '${since}'`, "audit export");
    }
    const api = await context.api();
    const text = await call(api.GET("/v1/audit/export", { parseAs: "text" }));
    if (typeof text !== "string") {
      throw new CliError("the API's export was not text");
    }
    // The API streams the whole chain; the cut by time is made here, line by line.
    for (const line of text.split("\n")) {
      if (line === "") {
        continue;
      }
      if (sinceMs !== undefined && Date.parse((JSON.parse(line) as { at: string }).at) < sinceMs) {
        continue;
      }
      context.output.out(`${line}\n`);
    }
    return 0;
  },
};
