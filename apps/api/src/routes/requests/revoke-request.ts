import { revokeRequest } from "@keyturn/usecases";
import { principalOf, requireScope } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { RevokeBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { requireOwnRequest } from "./own-request.js";
import { respondWithRequest } from "./respond.js";

export function registerRevokeRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests/:id/revoke",
    {
      config: { scopes: ["requests:write", "requests:self"] },
      schema: {
        tags: ["requests"],
        summary: "End approved or active access early (requester, approver, or asAdmin with flows:admin)",
        params: IdParamsSchema,
        body: RevokeBodySchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) => {
      await requireOwnRequest(deps, request, request.params.id, "requests:write");
      const { asAdmin, reason } = request.body;
      if (asAdmin) {
        requireScope(request, "flows:admin");
      }
      const result = await revokeRequest(deps.usecases, {
        requestId: request.params.id,
        by: principalOf(request),
        asAdmin,
        ...(reason === undefined ? {} : { reason }),
      });
      return respondWithRequest(deps, result, request.params.id);
    },
  );
}
