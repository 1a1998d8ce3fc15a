import type { Logger } from "@keyturn/observability";
import type { Payload } from "@keyturn/queue";
import { AppError, applyBucketPolicy, type BucketPolicyS3Deps, SYSTEM } from "@keyturn/usecases";
import type { WorkerMetrics } from "../metrics.js";

/** S3 gets at most one PutBucketPolicy per bucket per second from Keyturn. */
const MIN_PUT_INTERVAL_MS = 1000;

/**
 * Applies a protected bucket's policy with the cut-offs in force. Coalescing: every change
 * committed before the apply reads the cut-offs is in it; a put sooner than a second after the
 * last one waits for that second, so however many cut-offs arrive, a bucket sees at most one put
 * per second. S3 refusing is counted, audited by the use
 * case, and retried with backoff; the policy in S3 (with every cut-off in it) stays as it was.
 */
export function bucketApplyHandler(deps: {
  bucketPolicies?: BucketPolicyS3Deps;
  metrics: WorkerMetrics;
  logger: Logger;
}) {
  return async (payload: Payload<"bucket.apply">): Promise<void> => {
    if (deps.bucketPolicies === undefined) {
      return;
    }
    await applyForCutoffs(deps.bucketPolicies, payload.bucket, deps);
  };
}

/**
 * One apply for the cut-offs; answers when the caller may try again if it was deferred (null:
 * applied, or nothing to do). Throws what S3 said, after counting it.
 */
export async function applyForCutoffs(
  s3: BucketPolicyS3Deps,
  bucket: string,
  deps: {
    metrics: WorkerMetrics;
    logger: Logger;
    /**
     * A put the 1 s spacing defers: `wait` (default) sleeps until then (under a second, holding
     * the worker: coming back through the queue would wait behind the removals) and applies
     * again; `leave` returns, for a caller whose bucket.apply job is queued anyway.
     */
    deferred?: "wait" | "leave";
  },
): Promise<void> {
  for (;;) {
    let result: Awaited<ReturnType<typeof applyBucketPolicy>>;
    try {
      result = await applyBucketPolicy(s3, {
        name: bucket,
        by: SYSTEM,
        reason: "session_cutoffs",
        minIntervalMs: MIN_PUT_INTERVAL_MS,
        checkDefaultEncryption: false,
      });
    } catch (error) {
      deps.metrics.bucketPolicyApplyFailures.inc({
        bucket,
        code: error instanceof AppError ? error.code : "UNEXPECTED",
      });
      throw error;
    }
    if (!result.ok) {
      if (result.error.code === "BUCKET_NOT_FOUND") {
        return;
      }
      deps.metrics.bucketPolicyApplyFailures.inc({ bucket, code: result.error.code });
      deps.logger.error(
        { alert: "bucket_policy_apply", bucket, error: result.error },
        "ALERT: Keyturn cannot apply a protected bucket's policy; session cut-offs are not landing",
      );
      throw new AppError(result.error.code, result.error.message, { retryable: false });
    }
    const { deferredUntil, cutoffs, put } = result.value;
    if (put && cutoffs.roleWide.length > 0) {
      deps.logger.warn(
        { alert: "session_cutoff_overflow", bucket, roleWide: cutoffs.roleWide, listed: cutoffs.listed },
        "ALERT: more session cut-offs than the bucket policy holds; folded role-wide (holders of those sets must sign in again)",
      );
    }
    if (deferredUntil === null) {
      return;
    }
    const delayMs = Math.max(1, deferredUntil.getTime() - s3.clock.now().getTime());
    if (deps.deferred === "leave") {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
