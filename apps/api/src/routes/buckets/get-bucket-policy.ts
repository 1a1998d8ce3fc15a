import { findProtectedBucket } from "@keyturn/db";
import { previewBucketPolicy } from "@keyturn/usecases";
import type { App, RouteDeps } from "../../route-context.js";
import { BucketParamsSchema, PolicyViewSchema, toDiffJson } from "./schemas.js";
import { bucketProblem, callingS3, withS3 } from "./support.js";

export function registerGetBucketPolicy(app: App, deps: RouteDeps): void {
  app.get(
    "/buckets/:name/policy",
    {
      config: { scopes: ["flows:admin"] },
      schema: {
        tags: ["buckets"],
        summary: "Diff the bucket's live policy against the generated one, with foreign statements and drift",
        params: BucketParamsSchema,
        response: { 200: PolicyViewSchema },
      },
    },
    async (request) => {
      const s3 = withS3(deps);
      const result = await callingS3(request.params.name, () =>
        previewBucketPolicy(s3, { name: request.params.name }),
      );
      if (!result.ok) {
        throw bucketProblem(result.error);
      }
      const { bucket, plan, drift, sessionCutoffs, live, generated } = result.value;
      const recorded = await findProtectedBucket(deps.prisma, bucket);
      return {
        bucket,
        inSync: plan.inSync,
        changesLive: plan.changesLive,
        drift: {
          detected: drift.detected,
          recorded: recorded?.driftDetected ?? false,
          expectedHash: drift.expectedHash,
          liveHash: drift.liveHash,
          lastAppliedAt: drift.lastAppliedAt?.toISOString() ?? null,
          lastDriftCheckAt: drift.lastDriftCheckAt?.toISOString() ?? null,
        },
        diff: toDiffJson(plan),
        sessionCutoffs,
        live: live === null ? null : (JSON.parse(live) as { Statement: Record<string, unknown>[] }),
        generated: { policy: generated.policy, bytes: generated.bytes },
        toApply: { policy: plan.merged.policy, bytes: plan.merged.bytes },
      };
    },
  );
}
