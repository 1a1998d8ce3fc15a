import { overrideDecision } from "@keyturn/usecases";
import { principalOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { IdParamsSchema } from "../../schemas/common.js";
import { OverrideBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { respondWithRequest } from "./respond.js";

export function registerOverrideDecision(app: App, deps: RouteDeps): void {
  app.post(
    "/requests/:id/override",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["requests"],
        summary: "Decide outside the flow's rules (admin override, loudly audited)",
        params: IdParamsSchema,
        body: OverrideBodySchema,
        response: { 200: RequestViewSchema },
      },
    },
    async (request) => {
      const admin = principalOf(request);
      const { decision, comment } = request.body;
      const result = await overrideDecision(deps.usecases, {
        requestId: request.params.id,
        admin,
        decision,
        comment,
      });
      if (result.ok) {
        // Overrides bypass the flow's safeguards: make them stand out in the logs, not only the audit.
        request.log.warn(
          {
            accessRequestId: request.params.id,
            decision,
            tokenId: admin.audit.id,
            owner: admin.email,
            comment,
          },
          "admin override",
        );
      }
      return respondWithRequest(deps, result, request.params.id);
    },
  );
}
