import { canonicalJson, checkFlowRules, type FlowRef, type FlowRules } from "@keyturn/core";
import { type AuditActor, type Deps, NO_INTEGRATIONS } from "./ports.js";
import { err, ok, type Result } from "./result.js";

/**
 * Create or replace a flow by name (an idempotent PUT). A change makes a new version; requests
 * keep the version they were judged under. Sending identical rules changes nothing.
 */
export async function putFlow(
  deps: Deps,
  input: { name: string; rules: FlowRules; by: AuditActor },
): Promise<Result<{ flow: FlowRef; created: boolean; changed: boolean }>> {
  const problems = [...checkFlowRules(input.rules), ...integrationProblems(deps, input.rules)];
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

/** A flow may only name providers this deployment can ask: otherwise no request could ever pass. */
function integrationProblems(deps: Deps, rules: FlowRules): Array<{ path: string; message: string }> {
  const integrations = deps.integrations ?? NO_INTEGRATIONS;
  const problems: Array<{ path: string; message: string }> = [];
  const onCall = rules.onCallApproval;
  if (onCall !== undefined && integrations.onCall[onCall.provider] === undefined) {
    problems.push({
      path: "onCallApproval.provider",
      message: `${onCall.provider} is not configured on this Keyturn (see docs/operations.md, "Integrations")`,
    });
  }
  const ticket = rules.ticket.check;
  if (ticket !== undefined && integrations.tickets[ticket.provider] === undefined) {
    problems.push({
      path: "ticket.check.provider",
      message: `${ticket.provider} is not configured on this Keyturn (see docs/operations.md, "Integrations")`,
    });
  }
  return problems;
}
