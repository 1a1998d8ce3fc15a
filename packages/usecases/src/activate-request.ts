import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/**
 * Called by the reconciler once AWS holds the assignment: the access clock starts now, or at
 * `startedAt` when AWS started it earlier than Keyturn could record it (a worker died in between).
 */
export function activateRequest(
  deps: Deps,
  input: { requestId: string; startedAt?: Date },
): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: SYSTEM,
    command: () =>
      ok({
        type: "ActivateRequest",
        ...(input.startedAt === undefined ? {} : { startedAt: input.startedAt }),
      }),
  });
}
