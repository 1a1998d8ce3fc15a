import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/** Called when a lease's end has come; core refuses it before expiresAt. */
export function expireRequest(deps: Deps, input: { requestId: string }): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: SYSTEM,
    command: () => ok({ type: "ExpireRequest" }),
  });
}
