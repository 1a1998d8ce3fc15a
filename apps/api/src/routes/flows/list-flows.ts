import { mayRequest } from "@keyturn/core";
import { findIdentityByEmail, listFlows } from "@keyturn/db";
import { z } from "zod";
import { ownPerson, ownRequestsOnly } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { FlowViewSchema, toFlowViewJson } from "../../schemas/flow-view.js";

export function registerListFlows(app: App, deps: RouteDeps): void {
  app.get(
    "/flows",
    {
      config: { scopes: ["requests:read", "requests:self", "flows:admin"] },
      schema: {
        tags: ["flows"],
        summary: "List flows (current versions)",
        description:
          "With requests:self alone (a `keyturn login` token): only the unarchived flows its person may " +
          "request through the API (named by email or pinned Slack user, or open to anyone; flows open " +
          "to Slack groups only are requested in Slack, where membership can be checked).",
        response: { 200: z.object({ items: z.array(FlowViewSchema) }) },
      },
    },
    async (request) => {
      const items = (await listFlows(deps.prisma)).map(toFlowViewJson);
      if (!ownRequestsOnly(request, "requests:read")) {
        return { items };
      }
      const email = ownPerson(request);
      if (email === null) {
        return { items: [] };
      }
      const identity = await findIdentityByEmail(deps.prisma, email);
      const actor = {
        identityId: identity?.id ?? "",
        email,
        ...(identity?.slackUserId == null ? {} : { slackUserId: identity.slackUserId }),
        slackGroupIds: [],
      };
      return { items: items.filter((flow) => flow.archivedAt === null && mayRequest(flow.rules, actor)) };
    },
  );
}
