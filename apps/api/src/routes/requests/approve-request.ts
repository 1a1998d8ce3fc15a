import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { ReviewBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { reviewAsTokenOwner } from "./review.js";

export function registerApproveRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests/:id/approve",
    {
      config: { scopes: ["requests:write"] },
      schema: {
        tags: ["requests"],
        summary: "Approve as the token's owner (counts as their review under the flow's rules)",
        params: IdParamsSchema,
        body: ReviewBodySchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) =>
      reviewAsTokenOwner(deps, request, {
        requestId: request.params.id,
        decision: "approve",
        ...(request.body.comment === undefined ? {} : { comment: request.body.comment }),
      }),
  );
}
