import { call } from "../api-client.js";
import { forgetCachedCredentials } from "../aws/credential-cache.js";
import { usageError } from "../cli-error.js";
import { type Command, emit, stringOption } from "../command.js";
import { durationOption } from "../durations.js";
import { formatSeconds, formatTime } from "../format.js";
import { renderTable } from "../output.js";
import { describeRequest, getRequest } from "../requests.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requestId(positionals: readonly string[], command: string): string {
  const id = positionals[0] ?? "";
  if (!UUID.test(id)) {
    throw usageError(`'${id}' is not a request id (keyturn status lists yours)`, command);
  }
  return id;
}

export const status: Command = {
  path: ["status"],
  summary: "show your requests, or one request in detail",
  usage: "[<request id>] [--json]",
  examples: ["keyturn status", "keyturn status 0b6c3f0e-8f7a-4a57-9d5e-2f4a1c9e7b21"],
  positionals: { min: 0, max: 1 },
  async run(context, input) {
    const api = await context.api();
    if (input.positionals.length === 1) {
      const one = await getRequest(api, requestId(input.positionals, "status"));
      emit(context, one, () =>
        [
          `request  ${one.id}`,
          `flow     ${one.flow.name} v${one.flow.version}`,
          `target   ${one.target.permissionSetName} in ${one.target.accountId}`,
          `duration ${formatSeconds(one.durationSeconds)}`,
          `reason   ${one.reason === "" ? "-" : one.reason}`,
          `state    ${describeRequest(one)}`,
          "",
        ].join("\n"),
      );
      return 0;
    }
    const { items } = await call(api.GET("/v1/requests", { params: { query: { limit: 20 } } }));
    emit(context, items, () =>
      items.length === 0
        ? "no requests\n"
        : renderTable(items, [
            { header: "id", value: (r) => r.id },
            { header: "flow", value: (r) => r.flow.name },
            { header: "state", value: (r) => r.state },
            { header: "created", value: (r) => formatTime(r.createdAt) },
            { header: "ends", value: (r) => formatTime(r.lease?.endsAt ?? r.expiresAt) },
            { header: "detail", value: (r) => describeRequest(r) },
          ]),
    );
    return 0;
  },
};

export const extend: Command = {
  path: ["extend"],
  summary: "extend your active access (within the flow's extension rules)",
  usage: "<request id> --by <30m>",
  examples: ["keyturn extend 0b6c3f0e-8f7a-4a57-9d5e-2f4a1c9e7b21 --by 30m"],
  options: { by: { type: "string", label: "--by <30m>", description: "how much longer" } },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const id = requestId(input.positionals, "extend");
    const by = stringOption(input, "by");
    if (by === undefined) {
      throw usageError("--by is required, e.g. --by 30m", "extend");
    }
    const additionalSeconds = durationOption(by, "by", "extend");
    const api = await context.api();
    const after = await call(
      api.POST("/v1/requests/{id}/extend", { params: { path: { id } }, body: { additionalSeconds } }),
    );
    // The cached credentials end at the old lease end; the next `keyturn credentials` fetches anew.
    await forgetCachedCredentials(context.configDirectory, after.flow.name);
    emit(context, after, () => `request ${after.id}: ${describeRequest(after)}\n`);
    return 0;
  },
};

export const revoke: Command = {
  path: ["revoke"],
  summary: "end your approved or active access now",
  usage: "<request id> [--reason <text>]",
  examples: ['keyturn revoke 0b6c3f0e-8f7a-4a57-9d5e-2f4a1c9e7b21 --reason "done"'],
  options: { reason: { type: "string", label: "--reason <text>", description: "why (audited)" } },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const id = requestId(input.positionals, "revoke");
    const reason = stringOption(input, "reason");
    const api = await context.api();
    const after = await call(
      api.POST("/v1/requests/{id}/revoke", {
        params: { path: { id } },
        body: reason === undefined ? {} : { reason },
      }),
    );
    await forgetCachedCredentials(context.configDirectory, after.flow.name);
    emit(context, after, () => `request ${after.id}: ${describeRequest(after)}\n`);
    return 0;
  },
};

export const cancel: Command = {
  path: ["cancel"],
  summary: "withdraw your pending request",
  usage: "<request id>",
  examples: ["keyturn cancel 0b6c3f0e-8f7a-4a57-9d5e-2f4a1c9e7b21"],
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const id = requestId(input.positionals, "cancel");
    const api = await context.api();
    const after = await call(api.POST("/v1/requests/{id}/cancel", { params: { path: { id } }, body: {} }));
    emit(context, after, () => `request ${after.id}: ${describeRequest(after)}\n`);
    return 0;
  },
};
