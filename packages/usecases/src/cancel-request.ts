import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { type Principal, resolveActor } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

export function cancelRequest(
  deps: Deps,
  input: { requestId: string; by: Principal; asAdmin: boolean },
): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: input.by.audit,
    command: async (tx) =>
      ok({ type: "CancelRequest", actor: await resolveActor(tx, input.by), asAdmin: input.asAdmin }),
  });
}
