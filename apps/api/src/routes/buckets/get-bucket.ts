import { findProtectedBucket } from "@keyturn/db";
import { HttpProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";
import { BucketParamsSchema, BucketViewSchema, toBucketViewJson } from "./schemas.js";

export function registerGetBucket(app: App, deps: RouteDeps): void {
  app.get(
    "/buckets/:name",
    {
      config: { scopes: ["flows:admin", "requests:read", "audit:read"] },
      schema: {
        tags: ["buckets"],
        summary: "Get a protected bucket's spec and its apply and drift state",
        params: BucketParamsSchema,
        response: { 200: BucketViewSchema },
      },
    },
    async (request) => {
      const row = await findProtectedBucket(deps.prisma, request.params.name);
      if (row === null) {
        throw new HttpProblem(
          "BUCKET_NOT_FOUND",
          `bucket '${request.params.name}' is not protected by Keyturn`,
        );
      }
      return toBucketViewJson(row);
    },
  );
}
