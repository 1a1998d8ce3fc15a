import { listProtectedBuckets } from "@keyturn/db";
import { z } from "zod";
import type { App, RouteDeps } from "../../route-context.js";
import { BucketViewSchema, toBucketViewJson } from "./schemas.js";

export function registerListBuckets(app: App, deps: RouteDeps): void {
  app.get(
    "/buckets",
    {
      config: { scopes: ["flows:admin", "requests:read", "audit:read"] },
      schema: {
        tags: ["buckets"],
        summary: "List the protected buckets with their apply and drift state, by name",
        response: { 200: z.object({ items: z.array(BucketViewSchema) }) },
      },
    },
    // A handful of buckets per installation: no pagination.
    async () => ({
      items: (await listProtectedBuckets(deps.prisma)).map(toBucketViewJson),
    }),
  );
}
