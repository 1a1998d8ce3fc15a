import { cancelRequest } from "@keyturn/usecases";
import { principalOf, requireScope } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { CancelBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { requireOwnRequest } from "./own-request.js";
import { respondWithRequest } from "./respond.js";

export function registerCancelRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests/:id/cancel",
    {
      config: { scopes: ["requests:write", "requests:self"] },
      schema: {
        tags: ["requests"],
        summary: "Cancel a pending request (the requester's own, or any with asAdmin and flows:admin)",
        params: IdParamsSchema,
        body: CancelBodySchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) => {
      await requireOwnRequest(deps, request, request.params.id, "requests:write");
      const { asAdmin } = request.body;
      if (asAdmin) {
        requireScope(request, "flows:admin");
      }
      const result = await cancelRequest(deps.usecases, {
        requestId: request.params.id,
        by: principalOf(request),
        asAdmin,
      });
      return respondWithRequest(deps, result, request.params.id);
    },
  );
}
