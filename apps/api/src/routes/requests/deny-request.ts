import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { ReviewBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { reviewAsTokenOwner } from "./review.js";

export function registerDenyRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests/:id/deny",
    {
      config: { scopes: ["requests:write"] },
      schema: {
        tags: ["requests"],
        summary: "Deny as the token's owner (a review under the flow's rules)",
        params: IdParamsSchema,
        body: ReviewBodySchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) =>
      reviewAsTokenOwner(deps, request, {
        requestId: request.params.id,
        decision: "deny",
        ...(request.body.comment === undefined ? {} : { comment: request.body.comment }),
      }),
  );
}
