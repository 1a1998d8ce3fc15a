import { getFlowView } from "@keyturn/db";
import { FlowNameSchema } from "@keyturn/flow-schema";
import { archiveFlow } from "@keyturn/usecases";
import { z } from "zod";
import { HttpProblem, useCaseProblem } from "../../http-errors.js";
import { authOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { FlowViewSchema, toFlowViewJson } from "../../schemas/flow-view.js";

const ArchiveFlowResponseSchema = z.object({
  flow: FlowViewSchema,
  archived: z.boolean().meta({ description: "false when the flow was already archived" }),
});

export function registerArchiveFlow(app: App, deps: RouteDeps): void {
  app.post(
    "/flows/:name/archive",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["flows"],
        summary: "Archive a flow (idempotent): no new requests; filed ones and running grants go on",
        description: "A later PUT of the flow brings it back as a new version.",
        params: z.strictObject({ name: FlowNameSchema }),
        response: { 200: ArchiveFlowResponseSchema },
      },
    },
    async (request) => {
      const { token } = authOf(request);
      const result = await archiveFlow(deps.usecases, {
        name: request.params.name,
        by: { type: "token", id: token.id, label: token.name },
      });
      if (!result.ok) {
        // The path names the flow: a missing one is 404, as GET says (FLOW_NOT_FOUND is a bad body).
        throw result.error.code === "FLOW_NOT_FOUND"
          ? new HttpProblem("NOT_FOUND", result.error.message)
          : useCaseProblem(result.error);
      }
      const view = await getFlowView(deps.prisma, request.params.name);
      if (view === null) {
        throw new HttpProblem("INTERNAL", "the flow vanished right after it was archived");
      }
      return { flow: toFlowViewJson(view), archived: result.value.archived };
    },
  );
}
