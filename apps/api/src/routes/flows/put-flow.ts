import { getFlowView } from "@keyturn/db";
import { FlowNameSchema, FlowRulesSchema } from "@keyturn/flow-schema";
import { putFlow } from "@keyturn/usecases";
import { z } from "zod";
import { HttpProblem, useCaseProblem } from "../../http-errors.js";
import { authOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { FlowViewSchema, toFlowViewJson } from "../../schemas/flow-view.js";

const PutFlowResponseSchema = z.object({
  flow: FlowViewSchema,
  created: z.boolean(),
  changed: z.boolean().meta({ description: "false when the rules were identical to the current version" }),
});

export function registerPutFlow(app: App, deps: RouteDeps): void {
  app.put(
    "/flows/:name",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["flows"],
        summary: "Create or replace a flow (idempotent; a change makes a new version)",
        params: z.strictObject({ name: FlowNameSchema }),
        body: FlowRulesSchema,
        response: { 200: PutFlowResponseSchema, 201: PutFlowResponseSchema },
      },
    },
    async (request, reply) => {
      const { token } = authOf(request);
      const result = await putFlow(deps.usecases, {
        name: request.params.name,
        rules: request.body,
        by: { type: "token", id: token.id, label: token.name },
      });
      if (!result.ok) {
        throw useCaseProblem(result.error);
      }
      const view = await getFlowView(deps.prisma, request.params.name);
      if (view === null) {
        throw new HttpProblem("INTERNAL", "the flow vanished right after it was saved");
      }
      const { created, changed } = result.value;
      return reply.code(created ? 201 : 200).send({ flow: toFlowViewJson(view), created, changed });
    },
  );
}
