import { listFlows } from "@keyturn/db";
import { z } from "zod";
import type { App, RouteDeps } from "../../route-context.js";
import { FlowViewSchema, toFlowViewJson } from "../../schemas/flow-view.js";

export function registerListFlows(app: App, deps: RouteDeps): void {
  app.get(
    "/flows",
    {
      config: { scopes: ["requests:read", "flows:admin"] },
      schema: {
        tags: ["flows"],
        summary: "List flows (current versions)",
        response: { 200: z.object({ items: z.array(FlowViewSchema) }) },
      },
    },
    async () => ({ items: (await listFlows(deps.prisma)).map(toFlowViewJson) }),
  );
}
