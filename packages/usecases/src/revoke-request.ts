import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { type Principal, resolveActor } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/** Ends approved or active access early; the lease is released and the assignment reconciled. */
export function revokeRequest(
  deps: Deps,
  input: { requestId: string; by: Principal; asAdmin: boolean; reason?: string },
): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: input.by.audit,
    command: async (tx) =>
      ok({
        type: "RevokeRequest",
        actor: await resolveActor(tx, input.by),
        asAdmin: input.asAdmin,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
      }),
  });
}
