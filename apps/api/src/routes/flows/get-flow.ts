import { getFlowView } from "@keyturn/db";
import { FlowNameSchema } from "@keyturn/flow-schema";
import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";
import { FlowViewSchema, toFlowViewJson } from "../../schemas/flow-view.js";

export function registerGetFlow(app: App, deps: RouteDeps): void {
  app.get(
    "/flows/:name",
    {
      config: { scopes: ["requests:read", "requests:self", "flows:admin"] },
      schema: {
        tags: ["flows"],
        summary: "Get a flow's current version",
        params: z.strictObject({ name: FlowNameSchema }),
        response: { 200: FlowViewSchema },
      },
    },
    async (request) => {
      const view = await getFlowView(deps.prisma, request.params.name);
      if (view === null) {
        // Not FLOW_NOT_FOUND: that code means "your body names an unknown flow" (400).
        throw new HttpProblem("NOT_FOUND", `no flow named '${request.params.name}'`);
      }
      return toFlowViewJson(view);
    },
  );
}
