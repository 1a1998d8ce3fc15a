import type { FlowRef } from "@keyturn/core";
import type { AuditActor, Deps } from "./ports.js";
import { err, ok, type Result } from "./result.js";

/**
 * Archive a flow: nobody can file a new request under it (submitRequest refuses FLOW_ARCHIVED),
 * while requests already filed keep the flow version they were judged under, so pending ones can
 * still be decided and running grants, extensions and expiries go on untouched. Idempotent:
 * archiving an archived flow changes nothing. A later PUT of the flow brings it back.
 */
export async function archiveFlow(
  deps: Deps,
  input: { name: string; by: AuditActor },
): Promise<Result<{ flow: FlowRef; archived: boolean }>> {
  return deps.uow.run(async (tx) => {
    const current = await tx.flows.lockCurrent(input.name);
    if (current === null) {
      return err("FLOW_NOT_FOUND", `no flow named '${input.name}'`);
    }
    if (current.archived) {
      return ok({ flow: current.ref, archived: false });
    }
    await tx.flows.archive(input.name, deps.clock.now());
    await tx.audit.append({
      actor: input.by,
      action: "flow.archived",
      data: { name: input.name, version: current.ref.version },
    });
    return ok({ flow: current.ref, archived: true });
  });
}
