import { type ApiClient, call } from "../api-client.js";
import { CliError } from "../cli-error.js";
import { type Command, emit, flag } from "../command.js";
import { type FlowChange, hasChanges, renderPlan } from "../flow-plan.js";
import { loadPlan } from "./flows-plan.js";

type Applied = { name: string; action: string; version: number };

async function applyChange(api: ApiClient, change: FlowChange): Promise<Applied> {
  const path = { params: { path: { name: change.name } } };
  switch (change.action) {
    case "archive": {
      const result = await call(api.POST("/v1/flows/{name}/archive", path));
      return { name: change.name, action: "archived", version: result.flow.version };
    }
    case "create":
    case "change":
    case "restore": {
      const result = await call(api.PUT("/v1/flows/{name}", { ...path, body: change.rules }));
      const action = { create: "created", change: "changed", restore: "restored" }[change.action];
      return { name: change.name, action, version: result.flow.version };
    }
    case "unchanged":
      return { name: change.name, action: "unchanged", version: change.version };
  }
}

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
    const pending = plan.changes.filter((c) => c.action !== "unchanged");
    for (const change of pending) {
      try {
        applied.push(await applyChange(api, change));
      } catch (error) {
        // Every file was valid, so this is the API refusing (or unreachable) half-way: say what
        // was already done; running apply again finishes the rest.
        if (error instanceof CliError && applied.length > 0) {
          for (const done of applied) {
            context.output.err(`${done.name}: ${done.action} (version ${done.version})\n`);
          }
          throw new CliError(
            `${change.name}: ${error.message} (after ${applied.length} of ${pending.length} changes; run apply again)`,
          );
        }
        throw error;
      }
    }
    emit(context, { applied, plan }, () =>
      hasChanges(plan)
        ? `${renderPlan(plan)}\n${applied.map((a) => `${a.name}: ${a.action} (version ${a.version})`).join("\n")}\n`
        : "No changes: the flows match the directory.\n",
    );
    return 0;
  },
};
