import type { AccessRequest } from "@keyturn/core";
import { getRequestView, type RequestView } from "@keyturn/db";
import type { Result } from "@keyturn/usecases";
import { HttpProblem, useCaseProblem } from "../../http-errors.js";
import type { RouteDeps } from "../../route-context.js";
import { type RequestViewJson, toRequestViewJson } from "../../schemas/request-view.js";

export async function loadRequestView(deps: RouteDeps, id: string): Promise<RequestView> {
  const view = await getRequestView(deps.prisma, id);
  if (view === null) {
    throw new HttpProblem("REQUEST_NOT_FOUND", `no request ${id}`);
  }
  return view;
}

/** Core names deciders by identity id; people reading a 409 want to know who, by email. */
function alreadyDecidedDetail(view: RequestView): string {
  const state = view.status.replace("_", " ");
  const deciding = view.status === "denied" ? "deny" : "approve";
  const by = view.reviews
    .filter((r) => r.decision === deciding)
    .map((r) => (r.override ? `${r.reviewer.email} (admin override)` : r.reviewer.email));
  const decided = ["approved", "active", "denied", "expired", "revoked", "failed"].includes(view.status);
  return decided && by.length > 0
    ? `request is already ${state} by ${by.join(", ")}`
    : `request is already ${state}`;
}

/**
 * Renders a use case's outcome on one request: the fresh view on success, a problem otherwise.
 * The view is re-read after commit, so it shows the request as it is now.
 */
export async function respondWithRequest(
  deps: RouteDeps,
  result: Result<AccessRequest>,
  requestId?: string,
): Promise<RequestViewJson> {
  if (!result.ok) {
    if (result.error.code === "ALREADY_DECIDED" && requestId !== undefined) {
      const view = await getRequestView(deps.prisma, requestId);
      throw new HttpProblem(
        "ALREADY_DECIDED",
        view === null ? result.error.message : alreadyDecidedDetail(view),
      );
    }
    throw useCaseProblem(result.error);
  }
  return toRequestViewJson(await loadRequestView(deps, result.value.id));
}
