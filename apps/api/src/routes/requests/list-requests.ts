import { decodeCursor, listRequestViews } from "@keyturn/db";
import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import { insufficientScope, ownPerson, ownRequestsOnly } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { ListRequestsQuerySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema, toRequestViewJson } from "../../schemas/request-view.js";

export function registerListRequests(app: App, deps: RouteDeps): void {
  app.get(
    "/requests",
    {
      config: { scopes: ["requests:read", "requests:self"] },
      schema: {
        tags: ["requests"],
        summary: "List requests, newest first, with keyset (cursor) pagination",
        description:
          "With requests:self alone (a `keyturn login` token), only the token's own person's requests: " +
          "naming another requester is 403 INSUFFICIENT_SCOPE.",
        querystring: ListRequestsQuerySchema,
        response: {
          200: z.object({
            items: z.array(RequestViewSchema),
            nextCursor: z
              .string()
              .nullable()
              .meta({ description: "Pass as cursor for the next page; null at the end" }),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (cursor === null) {
        throw new HttpProblem(
          "INVALID_CURSOR",
          "cursor is not one this API issued: pass nextCursor unchanged",
          {
            errors: [{ path: "querystring.cursor", message: "is not a valid cursor" }],
          },
        );
      }
      let requester = q.requester;
      if (ownRequestsOnly(request, "requests:read")) {
        const own = ownPerson(request);
        if (own === null || (requester !== undefined && requester.toLowerCase() !== own)) {
          throw insufficientScope(["requests:read"]);
        }
        requester = own;
      }
      const page = await listRequestViews(deps.prisma, {
        filter: {
          ...(q.state === undefined ? {} : { status: q.state }),
          ...(q.flow === undefined ? {} : { flowName: q.flow }),
          ...(requester === undefined ? {} : { requesterEmail: requester }),
          ...(q.createdAfter === undefined ? {} : { createdAfter: new Date(q.createdAfter) }),
          ...(q.createdBefore === undefined ? {} : { createdBefore: new Date(q.createdBefore) }),
        },
        limit: q.limit,
        ...(cursor === undefined ? {} : { cursor }),
      });
      return { items: page.items.map(toRequestViewJson), nextCursor: page.nextCursor };
    },
  );
}
