import type { AccessRequest } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/** Pending requests that nobody decided in time end as timed_out. */
export function timeOutRequest(deps: Deps, input: { requestId: string }): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: SYSTEM,
    command: () => ok({ type: "TimeOutRequest" }),
  });
}
