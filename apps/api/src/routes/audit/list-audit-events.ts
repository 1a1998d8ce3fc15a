import { listAuditEvents } from "@keyturn/db";
import { z } from "zod";
import type { App, RouteDeps } from "../../route-context.js";
import { AuditEventSchema, toAuditEventJson } from "../../schemas/audit-event.js";
import { UuidSchema } from "../../schemas/common.js";

const QuerySchema = z.strictObject({
  requestId: UuidSchema.optional(),
  action: z
    .string()
    .regex(/^[a-z_]+\.[a-z_]+$/, "must be an action such as request.approved")
    .optional(),
  after: z
    .string()
    .regex(/^\d{1,19}$/, "must be a sequence number (the previous page's next)")
    .optional()
    .meta({ description: "Return events after this seq (exclusive)" }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function registerListAuditEvents(app: App, deps: RouteDeps): void {
  app.get(
    "/audit/events",
    {
      config: { scopes: ["audit:read"] },
      schema: {
        tags: ["audit"],
        summary: "List audit events in chain order",
        querystring: QuerySchema,
        response: {
          200: z.object({
            items: z.array(AuditEventSchema),
            next: z
              .string()
              .nullable()
              .meta({ description: "Pass as after for the next page; null at the end" }),
          }),
        },
      },
    },
    async (request) => {
      const { requestId, action, after, limit } = request.query;
      const page = await listAuditEvents(deps.prisma, {
        filter: {
          ...(requestId === undefined ? {} : { requestId }),
          ...(action === undefined ? {} : { action }),
          ...(after === undefined ? {} : { afterSeq: BigInt(after) }),
        },
        limit,
      });
      return {
        items: page.items.map(toAuditEventJson),
        next: page.nextAfterSeq === null ? null : page.nextAfterSeq.toString(),
      };
    },
  );
}
