import { submitRequest } from "@keyturn/usecases";
import { principalOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { CreateRequestBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { respondWithRequest } from "./respond.js";

export function registerCreateRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests",
    {
      config: { scopes: ["requests:write"] },
      schema: {
        tags: ["requests"],
        summary: "Request access on behalf of a requester (source: api)",
        body: CreateRequestBodySchema,
        response: { 201: RequestViewSchema },
      },
    },
    async (request, reply) => {
      const { body } = request;
      // The requester is the person named in the body; the audit trail names the token that asked.
      const result = await submitRequest(deps.usecases, {
        flowName: body.flow,
        requester: { email: body.requesterEmail, audit: principalOf(request).audit },
        source: "api",
        ...(body.target === undefined ? {} : { target: body.target }),
        ...(body.durationSeconds === undefined ? {} : { durationSeconds: body.durationSeconds }),
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.ticket === undefined ? {} : { ticket: body.ticket }),
      });
      const view = await respondWithRequest(deps, result);
      return reply.code(201).send(view);
    },
  );
}
