import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/** Called by the reconciler once the assignment exists in AWS: the access clock starts now. */
export function activateRequest(deps: Deps, input: { requestId: string }): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: SYSTEM,
    command: () => ok({ type: "ActivateRequest" }),
  });
}
