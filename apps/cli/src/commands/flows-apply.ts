import { call } from "../api-client.js";
import { type Command, emit, flag } from "../command.js";
import { hasChanges, renderPlan } from "../flow-plan.js";
import { loadPlan } from "./flows-plan.js";

type Applied = { name: string; action: string; version: number };

export const flowsApply: Command = {
  path: ["flows", "apply"],
  summary: "make the flows Keyturn runs match the flow files in a directory",
  usage: "<dir> [--prune] [--json]",
  description:
    "Checks every file first and applies nothing when any is invalid. Idempotent: a second apply\n" +
    "changes nothing. Archiving (--prune) stops new requests only; running grants go on.",
  examples: ["keyturn flows apply flows/", "keyturn flows apply flows/ --prune"],
  options: { prune: { type: "boolean", description: "archive live flows that have no file" } },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const { api, plan } = await loadPlan(context, input.positionals[0] ?? "", flag(input, "prune"));
    const applied: Applied[] = [];
    for (const change of plan.changes) {
      if (change.action === "unchanged") {
        continue;
      }
      if (change.action === "archive") {
        const result = await call(
          api.POST("/v1/flows/{name}/archive", { params: { path: { name: change.name } } }),
        );
        applied.push({ name: change.name, action: "archived", version: result.flow.version });
        continue;
      }
      const result = await call(
        api.PUT("/v1/flows/{name}", { params: { path: { name: change.name } }, body: change.rules }),
      );
      const action =
        change.action === "create" ? "created" : change.action === "restore" ? "restored" : "changed";
      applied.push({ name: change.name, action, version: result.flow.version });
    }
    emit(context, { applied, plan }, () =>
      hasChanges(plan)
        ? `${renderPlan(plan)}\n${applied.map((a) => `${a.name}: ${a.action} (version ${a.version})`).join("\n")}\n`
        : "No changes: the flows match the directory.\n",
    );
    return 0;
  },
};
