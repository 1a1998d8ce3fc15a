import { type ApiClient, call } from "../api-client.js";
import { CliError } from "../cli-error.js";
import { type Command, type CommandContext, emit, flag } from "../command.js";
import type { LocalFlow } from "../flow-files.js";
import { type FlowPlan, hasChanges, planFlows, renderPlan } from "../flow-plan.js";

/** Exit code of `plan --exit-code` when applying would change something (as `terraform plan -detailed-exitcode`). */
const EXIT_CHANGES = 2;

/**
 * Loads and checks every file, then diffs against the API. Any invalid file fails the whole
 * directory before the API is asked anything, so nothing is ever applied from a broken directory.
 */
export async function loadPlan(
  context: CommandContext,
  directory: string,
  prune: boolean,
): Promise<{ api: ApiClient; plan: FlowPlan; flows: LocalFlow[] }> {
  // Loaded on use: zod, yaml and the flow schema would otherwise cost every command's start-up
  // (credential_process runs the CLI for each AWS process).
  const { formatFlowFileProblem, loadFlowDirectory } = await import("../flow-files.js");
  const loaded = await loadFlowDirectory(directory);
  if (!loaded.ok) {
    if (context.json) {
      context.output.out(`${JSON.stringify({ problems: loaded.problems }, null, 2)}\n`);
    }
    for (const problem of loaded.problems) {
      context.output.err(`${formatFlowFileProblem(problem)}\n`);
    }
    const count = loaded.problems.length;
    throw new CliError(`${count} problem${count === 1 ? "" : "s"} in ${directory}; nothing was applied`);
  }
  const api = await context.api();
  const { items } = await call(api.GET("/v1/flows"));
  return { api, plan: planFlows(loaded.flows, items, prune), flows: loaded.flows };
}

export const flowsPlan: Command = {
  path: ["flows", "plan"],
  summary: "show how the flow files in a directory differ from the flows Keyturn runs",
  usage: "<dir> [--prune] [--exit-code] [--json]",
  description:
    "One flow per .yaml/.yml file: its fields are the API's flow rules (see the Flow schema at /docs);\n" +
    "the flow's name is the file's `name` field, else the file name. Every file is checked first; an\n" +
    "error names the file, line and field. With --exit-code: 0 no changes, 2 changes, 1 error (for CI).",
  examples: ["keyturn flows plan flows/", "keyturn flows plan flows/ --prune --exit-code"],
  options: {
    prune: { type: "boolean", description: "also plan to archive live flows that have no file" },
    "exit-code": { type: "boolean", description: "exit 2 when there are changes, 0 when none" },
  },
  positionals: { min: 1, max: 1 },
  async run(context, input) {
    const directory = input.positionals[0] ?? "";
    const { plan } = await loadPlan(context, directory, flag(input, "prune"));
    emit(context, plan, () => renderPlan(plan));
    return flag(input, "exit-code") && hasChanges(plan) ? EXIT_CHANGES : 0;
  },
};
