import { API_SCOPES, revokeApiToken } from "@keyturn/usecases";
import { useCaseProblem } from "../../http-errors.js";
import { authOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { ApiTokenSchema, toApiTokenJson } from "../../schemas/api-token.js";
import { IdParamsSchema } from "../../schemas/common.js";

export function registerRevokeToken(app: App, deps: RouteDeps): void {
  app.delete(
    "/tokens/:id",
    {
      // Any token may revoke itself; revoking another takes tokens:admin (checked by the use case).
      config: { scopes: API_SCOPES },
      schema: {
        tags: ["tokens"],
        summary: "Revoke an API token (idempotent); it stops working immediately",
        description:
          "A token may always revoke itself. Revoking another token needs tokens:admin and every scope " +
          "the other token holds (a token may only revoke what it could have granted): 403 " +
          "TOKEN_BEYOND_REACH otherwise.",
        params: IdParamsSchema,
        response: { 200: ApiTokenSchema },
      },
    },
    async (request) => {
      const { token } = authOf(request);
      const result = await revokeApiToken(deps.usecases, {
        id: request.params.id,
        by: { type: "token", token },
      });
      if (!result.ok) {
        throw useCaseProblem(result.error);
      }
      return toApiTokenJson(result.value);
    },
  );
}
