import { getRequestView } from "@keyturn/db";
import type { FastifyRequest } from "fastify";
import { HttpProblem } from "../../http-errors.js";
import { ownPerson, ownRequestsOnly } from "../../plugins/auth.js";
import type { RouteDeps } from "../../route-context.js";

/**
 * A caller limited to its own requests (requests:self) learns nothing about anyone else's: another
 * person's request answers exactly as a request that does not exist.
 */
export async function requireOwnRequest(
  deps: RouteDeps,
  request: FastifyRequest,
  requestId: string,
  need: "requests:read" | "requests:write",
): Promise<void> {
  if (!ownRequestsOnly(request, need)) {
    return;
  }
  const view = await getRequestView(deps.prisma, requestId);
  const own = ownPerson(request);
  if (view === null || own === null || view.requester.email.toLowerCase() !== own) {
    throw new HttpProblem("REQUEST_NOT_FOUND", `no request ${requestId}`);
  }
}
