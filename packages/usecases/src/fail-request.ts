import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/** Called by the reconciler when AWS refuses the grant for good; the reason is kept for the requester. */
export function failRequest(
  deps: Deps,
  input: { requestId: string; reason: string },
): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: SYSTEM,
    command: () => ok({ type: "FailRequest", reason: input.reason }),
  });
}
