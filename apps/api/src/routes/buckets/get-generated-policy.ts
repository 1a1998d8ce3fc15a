import { generateBucketPolicy } from "@keyturn/usecases";
import type { App, RouteDeps } from "../../route-context.js";
import { BucketParamsSchema, GeneratedPolicyViewSchema } from "./schemas.js";
import { bucketProblem } from "./support.js";

export function registerGetGeneratedPolicy(app: App, deps: RouteDeps): void {
  app.get(
    "/buckets/:name/policy/generated",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["buckets"],
        summary: "The policy Keyturn would apply to the bucket, without reading S3",
        description:
          "For onboarding a bucket whose current policy does not let Keyturn in yet: put this policy by hand, then apply. Works without an S3 client.",
        params: BucketParamsSchema,
        response: { 200: GeneratedPolicyViewSchema },
      },
    },
    async (request) => {
      const result = await generateBucketPolicy(deps.buckets, { name: request.params.name });
      if (!result.ok) {
        throw bucketProblem(result.error);
      }
      const { bucket, generated, sessionCutoffs, capacity } = result.value;
      return {
        bucket,
        policy: generated.policy,
        bytes: generated.bytes,
        sessionCutoffs,
        cutoffLayout: generated.cutoffs,
        sessionCutoffCapacity: capacity,
      };
    },
  );
}
