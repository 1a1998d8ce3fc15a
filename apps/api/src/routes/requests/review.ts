import type { ReviewDecision } from "@keyturn/core";
import { reviewRequest } from "@keyturn/usecases";
import type { FastifyRequest } from "fastify";
import { HttpProblem } from "../../http-errors.js";
import { authOf, principalOf } from "../../plugins/auth.js";
import type { RouteDeps } from "../../route-context.js";
import type { RequestViewJson } from "../../schemas/request-view.js";
import { respondWithRequest } from "./respond.js";

/**
 * Approve and deny are reviews under the flow's rules, so they need a person: the flow counts
 * approvals from distinct people. A service acting outside the rules uses override instead.
 */
export async function reviewAsTokenOwner(
  deps: RouteDeps,
  request: FastifyRequest,
  input: { requestId: string; decision: ReviewDecision; comment?: string },
): Promise<RequestViewJson> {
  if (authOf(request).token.ownerKind !== "person") {
    throw new HttpProblem(
      "SERVICE_TOKEN_CANNOT_REVIEW",
      `a service token cannot review under a flow's rules; an admin (flows:admin) can decide with POST /v1/requests/${input.requestId}/override`,
    );
  }
  const result = await reviewRequest(deps.usecases, {
    requestId: input.requestId,
    reviewer: principalOf(request),
    decision: input.decision,
    ...(input.comment === undefined ? {} : { comment: input.comment }),
  });
  return respondWithRequest(deps, result, input.requestId);
}
