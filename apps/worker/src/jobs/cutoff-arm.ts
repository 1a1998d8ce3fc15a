import { ARM_LOOKBACK_MS, refreshSessionCutoffs, type SessionCutoffDeps } from "@keyturn/usecases";

/**
 * At a lease's end (one run per instant, however many leases end then) or on a revocation: arms
 * the session cut-offs of every lease ended by now, marking the buckets to apply. The removal from
 * Identity Center runs on its own, at the quota; this does not wait for it.
 */
export function cutoffArmHandler(deps: { bucketPolicies?: SessionCutoffDeps }) {
  return async (): Promise<void> => {
    if (deps.bucketPolicies === undefined) {
      return;
    }
    const now = deps.bucketPolicies.clock.now();
    await refreshSessionCutoffs(deps.bucketPolicies, { since: new Date(now.getTime() - ARM_LOOKBACK_MS) });
  };
}
