import { call } from "../api-client.js";
import { type Command, emit } from "../command.js";
import { formatSeconds } from "../format.js";
import { renderTable } from "../output.js";

export const flowsList: Command = {
  path: ["flows", "list"],
  summary: "list the flows (current versions)",
  usage: "[--archived] [--json]",
  examples: ["keyturn flows list", "keyturn flows list --json | jq -r '.[].name'"],
  options: { archived: { type: "boolean", description: "include archived flows" } },
  async run(context, input) {
    const api = await context.api();
    const { items } = await call(api.GET("/v1/flows"));
    const flows = input.values.archived === true ? items : items.filter((f) => f.archivedAt === null);
    emit(context, flows, () =>
      flows.length === 0
        ? "no flows\n"
        : renderTable(flows, [
            { header: "name", value: (f) => f.name },
            { header: "version", value: (f) => f.version },
            { header: "title", value: (f) => f.rules.title },
            {
              header: "targets",
              value: (f) => f.rules.targets.map((t) => `${t.accountId}/${t.permissionSetName}`).join(", "),
            },
            { header: "approvals", value: (f) => (f.rules.autoApprove ? "auto" : f.rules.approvalsRequired) },
            { header: "max", value: (f) => formatSeconds(f.rules.maxDurationSeconds) },
            { header: "archived", value: (f) => (f.archivedAt === null ? "" : f.archivedAt) },
          ]),
    );
    return 0;
  },
};
