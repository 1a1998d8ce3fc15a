import { revokeApiToken } from "@keyturn/usecases";
import { useCaseProblem } from "../../http-errors.js";
import { authOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { ApiTokenSchema, toApiTokenJson } from "../../schemas/api-token.js";
import { IdParamsSchema } from "../../schemas/common.js";

export function registerRevokeToken(app: App, deps: RouteDeps): void {
  app.delete(
    "/tokens/:id",
    {
      config: { scopes: ["tokens:admin"] },
      schema: {
        tags: ["tokens"],
        summary: "Revoke an API token (idempotent); it stops working immediately",
        params: IdParamsSchema,
        response: { 200: ApiTokenSchema },
      },
    },
    async (request) => {
      const { token } = authOf(request);
      const result = await revokeApiToken(deps.usecases, {
        id: request.params.id,
        by: { type: "token", id: token.id, label: token.name },
      });
      if (!result.ok) {
        throw useCaseProblem(result.error);
      }
      return toApiTokenJson(result.value);
    },
  );
}
