import { canonicalJson, checkFlowRules, type FlowRef, type FlowRules } from "@keyturn/core";
import type { AuditActor, Deps } from "./ports.js";
import { err, ok, type Result } from "./result.js";

/**
 * Create or replace a flow by name (an idempotent PUT). A change makes a new version; requests
 * keep the version they were judged under. Sending identical rules changes nothing.
 */
export async function putFlow(
  deps: Deps,
  input: { name: string; rules: FlowRules; by: AuditActor },
): Promise<Result<{ flow: FlowRef; created: boolean; changed: boolean }>> {
  const problems = checkFlowRules(input.rules);
  if (problems.length > 0) {
    return err("INVALID_FLOW", problems.map((p) => `${p.path}: ${p.message}`).join("; "), { problems });
  }
  return deps.uow.run(async (tx) => {
    const current = await tx.flows.lockCurrent(input.name);
    if (
      current !== null &&
      !current.archived &&
      canonicalJson(current.ref.rules) === canonicalJson(input.rules)
    ) {
      return ok({ flow: current.ref, created: false, changed: false });
    }
    const version = current === null ? 1 : current.ref.version + 1;
    await tx.flows.saveVersion({ name: input.name, version, rules: input.rules, createdBy: input.by.id });
    await tx.audit.append({
      actor: input.by,
      action: current === null ? "flow.created" : "flow.updated",
      data: { name: input.name, version, rules: input.rules },
    });
    return ok({
      flow: { name: input.name, version, rules: input.rules },
      created: current === null,
      changed: true,
    });
  });
}
