import type { AccessRequest, ReviewDecision } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { type Principal, resolveActor } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/**
 * An admin deciding outside the flow's rules (break a deadlock, stop an abuse). It is a separate
 * action with its own audit action (`request.override_*`), and needs a comment saying why.
 */
export function overrideDecision(
  deps: Deps,
  input: { requestId: string; admin: Principal; decision: ReviewDecision; comment: string },
): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: input.admin.audit,
    command: async (tx) =>
      ok({
        type: "OverrideDecision",
        admin: await resolveActor(tx, input.admin),
        decision: input.decision,
        comment: input.comment,
      }),
  });
}
