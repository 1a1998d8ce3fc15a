import { listTokens } from "@keyturn/db";
import { z } from "zod";
import type { App, RouteDeps } from "../../route-context.js";
import { ApiTokenSchema, toApiTokenJson } from "../../schemas/api-token.js";

export function registerListTokens(app: App, deps: RouteDeps): void {
  app.get(
    "/tokens",
    {
      config: { scopes: ["tokens:admin"] },
      schema: {
        tags: ["tokens"],
        summary: "List API tokens (metadata only, never secrets or hashes)",
        response: { 200: z.object({ items: z.array(ApiTokenSchema) }) },
      },
    },
    async () => ({ items: (await listTokens(deps.prisma)).map(toApiTokenJson) }),
  );
}
