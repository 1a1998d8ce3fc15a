import { extendRequest } from "@keyturn/usecases";
import { principalOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { ExtendBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { requireOwnRequest } from "./own-request.js";
import { respondWithRequest } from "./respond.js";

export function registerExtendRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests/:id/extend",
    {
      config: { scopes: ["requests:write", "requests:self"] },
      schema: {
        tags: ["requests"],
        summary: "Extend active access, within the flow's extension rules",
        params: IdParamsSchema,
        body: ExtendBodySchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) => {
      await requireOwnRequest(deps, request, request.params.id, "requests:write");
      const result = await extendRequest(deps.usecases, {
        requestId: request.params.id,
        by: principalOf(request),
        additionalSeconds: request.body.additionalSeconds,
      });
      return respondWithRequest(deps, result, request.params.id);
    },
  );
}
