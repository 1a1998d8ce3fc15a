import { call } from "../api-client.js";
import { type Command, emit } from "../command.js";
import { formatSeconds } from "../format.js";
import { renderTable } from "../output.js";

export const flowsMine: Command = {
  path: ["flows"],
  summary: "the flows you may request (with a keyturn login token; every flow with an admin token)",
  usage: "[--json]",
  examples: ["keyturn flows", "keyturn flows --json | jq -r '.[].name'"],
  async run(context) {
    const api = await context.api();
    const { items } = await call(api.GET("/v1/flows"));
    const flows = items.filter((f) => f.archivedAt === null);
    emit(context, flows, () =>
      flows.length === 0
        ? "no flows you may request\n"
        : renderTable(flows, [
            { header: "flow", value: (f) => f.name },
            { header: "title", value: (f) => f.rules.title },
            {
              header: "targets",
              value: (f) => f.rules.targets.map((t) => `${t.accountId}/${t.permissionSetName}`).join(", "),
            },
            { header: "default", value: (f) => formatSeconds(f.rules.defaultDurationSeconds) },
            { header: "max", value: (f) => formatSeconds(f.rules.maxDurationSeconds) },
            {
              header: "approval",
              value: (f) => (f.rules.autoApprove ? "automatic" : `${f.rules.approvalsRequired} approver(s)`),
            },
          ]),
    );
    return 0;
  },
};
