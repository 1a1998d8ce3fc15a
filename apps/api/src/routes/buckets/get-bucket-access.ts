import { bucketAccessReport } from "@keyturn/usecases";
import type { App, RouteDeps } from "../../route-context.js";
import { AccessReportSchema, BucketParamsSchema, toAccessReportJson } from "./schemas.js";
import { bucketProblem, callingS3, withS3 } from "./support.js";

export function registerGetBucketAccess(app: App, deps: RouteDeps): void {
  app.get(
    "/buckets/:name/access",
    {
      config: { scopes: ["requests:read", "audit:read"] },
      schema: {
        tags: ["buckets"],
        summary:
          "Who can do what on the bucket right now: policy grants resolved to lease holders, extras flagged",
        params: BucketParamsSchema,
        response: { 200: AccessReportSchema },
      },
    },
    async (request) => {
      const s3 = withS3(deps);
      const result = await callingS3(request.params.name, () =>
        bucketAccessReport(s3, { name: request.params.name }),
      );
      if (!result.ok) {
        throw bucketProblem(result.error);
      }
      return toAccessReportJson(result.value);
    },
  );
}
