import { type AccessRequest, decide, type FlowTarget, type RequestSource } from "@keyturn/core";
import { applyDecision } from "./apply-decision.js";
import type { Deps } from "./ports.js";
import { type Principal, resolveActor } from "./principal.js";
import { err, ok, type Result } from "./result.js";

export type SubmitRequestInput = {
  flowName: string;
  requester: Principal;
  target?: FlowTarget;
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  source: RequestSource;
  /** The same key twice yields the first request, not a second one (Slack retries, client retries). */
  idempotencyKey?: string;
  /**
   * What the key was used for (a hash of the API body): the key reused for something else is
   * refused with IDEMPOTENCY_KEY_REUSED instead of answering with the first request.
   */
  idempotencyFingerprint?: string;
};

export async function submitRequest(deps: Deps, input: SubmitRequestInput): Promise<Result<AccessRequest>> {
  return deps.uow.run(async (tx) => {
    if (input.idempotencyKey !== undefined) {
      const earlier = await tx.requests.findByIdempotencyKey(input.idempotencyKey);
      if (earlier !== null) {
        if (
          input.idempotencyFingerprint !== undefined &&
          earlier.fingerprint !== input.idempotencyFingerprint
        ) {
          return err(
            "IDEMPOTENCY_KEY_REUSED",
            `this idempotency key was first used for a different request (${earlier.request.id}); use a new key for a new request`,
          );
        }
        return ok(earlier.request);
      }
    }
    const flow = await tx.flows.getCurrent(input.flowName);
    if (flow === null) {
      return err("FLOW_NOT_FOUND", `no flow named '${input.flowName}'`);
    }
    if (flow.archived) {
      return err("FLOW_ARCHIVED", `flow '${input.flowName}' is archived`);
    }
    const requester = await resolveActor(tx, input.requester);
    const decision = decide(
      null,
      {
        type: "SubmitRequest",
        id: deps.ids.uuid(),
        flow: flow.ref,
        requester,
        source: input.source,
        ...(input.target === undefined ? {} : { target: input.target }),
        ...(input.durationSeconds === undefined ? {} : { durationSeconds: input.durationSeconds }),
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.ticket === undefined ? {} : { ticket: input.ticket }),
      },
      deps.clock.now(),
    );
    if (!decision.ok) {
      return err(decision.error.code, decision.error.message);
    }
    await applyDecision(tx, {
      before: null,
      after: decision.state,
      events: decision.events,
      actor: input.requester.audit,
      ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
      ...(input.idempotencyFingerprint === undefined
        ? {}
        : { idempotencyFingerprint: input.idempotencyFingerprint }),
    });
    return ok(decision.state);
  });
}
