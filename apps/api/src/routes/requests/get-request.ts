import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { RequestViewSchema, toRequestViewJson } from "../../schemas/request-view.js";
import { requireOwnRequest } from "./own-request.js";
import { loadRequestView } from "./respond.js";

export function registerGetRequest(app: App, deps: RouteDeps): void {
  app.get(
    "/requests/:id",
    {
      config: { scopes: ["requests:read", "requests:self"] },
      schema: {
        tags: ["requests"],
        summary: "Get one request",
        params: IdParamsSchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) => {
      await requireOwnRequest(deps, request, request.params.id, "requests:read");
      return toRequestViewJson(await loadRequestView(deps, request.params.id));
    },
  );
}
