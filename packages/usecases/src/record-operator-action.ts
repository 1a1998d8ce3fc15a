import type { AuditActor, Deps } from "./ports.js";

/**
 * Audits an operator's action on Keyturn's machinery (pausing or cleaning the job queue from the
 * dashboard, ...) before it is carried out: if the audit cannot be written, the action must not
 * run. Such actions change no request, so they are not domain events; they still belong in the
 * same hash-chained trail.
 */
export async function recordOperatorAction(
  deps: Deps,
  input: { actor: AuditActor; action: string; data: Record<string, unknown> },
): Promise<{ id: string }> {
  return deps.uow.run((tx) =>
    tx.audit.append({ actor: input.actor, action: input.action, data: input.data }),
  );
}
