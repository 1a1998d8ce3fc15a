import type { AccessRequest, ReviewDecision } from "@keyturn/core";
import type { Deps } from "./ports.js";
import { type Principal, resolveActor } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/** A review under the flow's rules: it counts only if the reviewer is one of its approvers. */
export function reviewRequest(
  deps: Deps,
  input: { requestId: string; reviewer: Principal; decision: ReviewDecision; comment?: string },
): Promise<Result<AccessRequest>> {
  return transitionRequest(deps, {
    requestId: input.requestId,
    actor: input.reviewer.audit,
    command: async (tx) =>
      ok({
        type: "ReviewRequest",
        reviewer: await resolveActor(tx, input.reviewer),
        decision: input.decision,
        ...(input.comment === undefined ? {} : { comment: input.comment }),
      }),
  });
}
