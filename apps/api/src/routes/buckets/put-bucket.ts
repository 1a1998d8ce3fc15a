import { findProtectedBucket } from "@keyturn/db";
import { putProtectedBucket } from "@keyturn/usecases";
import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import { authOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { BucketParamsSchema, BucketSpecBodySchema, BucketViewSchema, toBucketViewJson } from "./schemas.js";
import { bucketProblem } from "./support.js";

const PutBucketResponseSchema = z.object({
  bucket: BucketViewSchema,
  created: z.boolean(),
  changed: z.boolean().meta({ description: "false when the spec was identical to the stored one" }),
});

export function registerPutBucket(app: App, deps: RouteDeps): void {
  app.put(
    "/buckets/:name",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["buckets"],
        summary: "Protect a bucket, or replace its spec (idempotent; the policy is applied separately)",
        params: BucketParamsSchema,
        body: BucketSpecBodySchema,
        response: { 200: PutBucketResponseSchema, 201: PutBucketResponseSchema },
      },
    },
    async (request, reply) => {
      const { token } = authOf(request);
      const result = await putProtectedBucket(deps.buckets, {
        name: request.params.name,
        spec: request.body,
        by: { type: "token", id: token.id, label: token.name },
      });
      if (!result.ok) {
        throw bucketProblem(result.error);
      }
      const row = await findProtectedBucket(deps.prisma, request.params.name);
      if (row === null) {
        throw new HttpProblem("INTERNAL", "the bucket vanished right after it was saved");
      }
      const { created, changed } = result.value;
      return reply.code(created ? 201 : 200).send({ bucket: toBucketViewJson(row), created, changed });
    },
  );
}
