import type { AccessRequest, OnCallCheck } from "@keyturn/core";
import { type Deps, NO_INTEGRATIONS } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/**
 * Asks the flow's on-call provider whether the requester of a pending request is on call now, and
 * lets core decide: approved by Keyturn itself (through the same decide-once transition as a human
 * approval, audited with the provider's evidence), or left with the approvers with a note saying
 * why. Run by the worker after submission, at least once: a repeat, or a request decided in the
 * meantime, changes nothing. The provider is asked outside any transaction and never cached.
 */
export async function checkOnCall(
  deps: Deps,
  input: { requestId: string },
): Promise<Result<{ request: AccessRequest | null; changed: boolean }>> {
  const loaded = await deps.uow.run(async (tx) => {
    const request = await tx.requests.lock(input.requestId);
    if (request === null) {
      return null;
    }
    const requester = await tx.identities.findById(request.requesterId);
    return { request, email: requester?.email ?? null };
  });
  if (loaded === null) {
    return ok({ request: null, changed: false });
  }
  const { request, email } = loaded;
  const rule = request.flow.rules.onCallApproval;
  if (rule === undefined || request.status !== "pending" || request.onCall !== undefined) {
    return ok({ request, changed: false });
  }
  const provider = (deps.integrations ?? NO_INTEGRATIONS).onCall[rule.provider];
  const check: OnCallCheck =
    provider === undefined || email === null
      ? {
          kind: "check_failed",
          checkedAt: deps.clock.now(),
          reason: "misconfigured",
          detail:
            provider === undefined ? `${rule.provider} is not configured` : "the requester has no email",
        }
      : await provider.check({
          email,
          schedules: rule.schedules,
          escalationPolicies: rule.escalationPolicies,
          ...(rule.maxEscalationLevel === undefined ? {} : { maxEscalationLevel: rule.maxEscalationLevel }),
        });
  const result = await transitionRequest(deps, {
    requestId: request.id,
    actor: SYSTEM,
    command: () => ok({ type: "RecordOnCallCheck", check }),
  });
  if (!result.ok) {
    // Decided by someone else, or checked by another run, while the provider was asked.
    if (result.error.code === "ALREADY_DECIDED" || result.error.code === "ALREADY_CHECKED") {
      return ok({ request, changed: false });
    }
    return result;
  }
  return ok({ request: result.value, changed: true });
}
