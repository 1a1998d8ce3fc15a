import { applyBucketPolicy } from "@keyturn/usecases";
import { authOf } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { ApplyBodySchema, ApplyResultSchema, BucketParamsSchema, toSummaryJson } from "./schemas.js";
import { bucketProblem, callingS3, withS3 } from "./support.js";

export function registerApplyBucketPolicy(app: App, deps: RouteDeps): void {
  app.post(
    "/buckets/:name/policy/apply",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["buckets"],
        summary:
          "Put the generated policy on the bucket (PutBucketPolicy), keeping foreign statements unless told",
        description:
          "Send `confirm: true`: this replaces the bucket's policy. Audited as bucket_policy.applied.",
        params: BucketParamsSchema,
        body: ApplyBodySchema,
        response: { 200: ApplyResultSchema },
      },
    },
    async (request) => {
      const s3 = withS3(deps);
      const { token } = authOf(request);
      const result = await callingS3(request.params.name, () =>
        applyBucketPolicy(s3, {
          name: request.params.name,
          dropForeign: request.body.dropForeign,
          by: { type: "token", id: token.id, label: token.name },
          reason: "api",
        }),
      );
      if (!result.ok) {
        throw bucketProblem(result.error);
      }
      const { bucket, put, hash, bytes, summary } = result.value;
      return { bucket, put, hash, bytes, diff: toSummaryJson(summary) };
    },
  );
}
