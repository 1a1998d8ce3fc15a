import { DatabaseError } from "@keyturn/db";
import { AppError, type BucketPolicyError, type BucketPolicyS3Deps } from "@keyturn/usecases";
import { type FieldError, HttpProblem } from "../../http-errors.js";
import type { RouteDeps } from "../../route-context.js";

/** A bucket-policy use case's rejection, as the API reports it (spec problems as field errors). */
export function bucketProblem(error: BucketPolicyError): HttpProblem {
  const problems = error.details?.problems;
  const errors: FieldError[] = Array.isArray(problems)
    ? problems.flatMap((p: unknown) => {
        const { path, message } = (p ?? {}) as { path?: unknown; message?: unknown };
        return typeof path === "string" && typeof message === "string"
          ? [{ path: path === "" ? "body" : `body.${path.replace(/\[(\d+)\]/g, ".$1")}`, message }]
          : [];
      })
    : [];
  return new HttpProblem(error.code, error.message, { errors });
}

/** The use cases' dependencies with the S3 store, or 503 when the API runs without one. */
export function withS3(deps: RouteDeps): BucketPolicyS3Deps {
  const { store, ...rest } = deps.buckets;
  if (store === undefined) {
    throw new HttpProblem(
      "S3_NOT_CONFIGURED",
      "this API has no S3 client configured (set AWS_REGION), so it cannot read or write bucket policies",
    );
  }
  return { ...rest, store };
}

/**
 * Runs a use case that calls S3 for `bucket`. S3 refusing Keyturn the bucket's policy (onboarding
 * a bucket whose current policy does not let Keyturn in) is 409 with what the operator must do;
 * anything else S3 says (the bucket does not exist) is 502 with its code and message; trouble that
 * may pass (throttling, timeouts) is 503 with Retry-After.
 */
export async function callingS3<T>(bucket: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // Not S3's: the database's errors (AppErrors too) go to the one mapping in plugins/problems.
    if (!(error instanceof AppError) || error instanceof DatabaseError) {
      throw error;
    }
    if (error.retryable) {
      throw new HttpProblem("UNAVAILABLE", `S3 is unavailable or throttling; retry shortly (${error.code})`, {
        headers: { "retry-after": "5" },
      });
    }
    if (error.code === "AWS_ACCESS_DENIED") {
      throw new HttpProblem(
        "BUCKET_POLICY_ACCESS_DENIED",
        `S3 refuses Keyturn's role the policy of bucket '${bucket}' (${error.message}): its current policy does not let Keyturn read and write it. ` +
          `Fetch the policy Keyturn would apply with GET /v1/buckets/${bucket}/policy/generated (it reads nothing from S3), ` +
          `and have someone allowed to change the bucket's policy (an administrator its current policy allows, or the bucket owner account's root user) ` +
          `put it: aws s3api put-bucket-policy --bucket ${bucket} --policy file://policy.json. ` +
          `Or add Keyturn's role to the current policy's Allow for s3:GetBucketPolicy and s3:PutBucketPolicy (and to any Deny's exceptions). ` +
          "Then apply again: POST /v1/buckets/" +
          `${bucket}/policy/apply.`,
      );
    }
    throw new HttpProblem("S3_ERROR", `S3 refused the call: ${error.code}: ${error.message}`);
  }
}
