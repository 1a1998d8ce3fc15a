import {
  type AccessRequest,
  decide,
  type FlowTarget,
  normalizeTicketKey,
  type RequestSource,
  type TicketLookup,
} from "@keyturn/core";
import { applyDecision } from "./apply-decision.js";
import { type Deps, NO_INTEGRATIONS } from "./ports.js";
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
  // A checked ticket is asked of its provider before the transaction, so no row lock or pooled
  // connection waits on the provider; the adapter bounds the wait, and a failure is a refusal.
  const ticketLookup = await lookUpTicket(deps, input);
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
        ...(ticketLookup === undefined ? {} : { ticketLookup }),
      },
      deps.clock.now(),
    );
    if (!decision.ok) {
      return err(
        decision.error.code,
        decision.error.message,
        decision.error.problems === undefined ? undefined : { problems: decision.error.problems },
      );
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

/**
 * The provider's answer about the request's ticket, when the flow checks tickets; undefined when
 * it does not (or names no ticket: core then refuses a required one). An unconfigured provider is
 * a failed check, never a pass.
 */
async function lookUpTicket(deps: Deps, input: SubmitRequestInput): Promise<TicketLookup | undefined> {
  const typed = input.ticket?.trim() ?? "";
  if (typed === "") {
    return undefined;
  }
  const { flow, earlier } = await deps.uow.run(async (tx) => ({
    flow: await tx.flows.getCurrent(input.flowName),
    earlier:
      input.idempotencyKey === undefined
        ? null
        : await tx.requests.findByIdempotencyKey(input.idempotencyKey),
  }));
  const requirement = flow?.ref.rules.ticket.check;
  // A repeat of a submission already made (a Slack retry) is answered with the first request:
  // its ticket was checked then, and is not asked again.
  if (requirement === undefined || earlier !== null) {
    return undefined;
  }
  const provider = (deps.integrations ?? NO_INTEGRATIONS).tickets[requirement.provider];
  if (provider === undefined) {
    return {
      kind: "check_failed",
      key: normalizeTicketKey(requirement.provider, typed) ?? typed.slice(0, 100),
      reason: "unavailable",
      detail: `${requirement.provider} is not configured`,
      checkedAt: deps.clock.now(),
    };
  }
  return provider.lookup(typed, { requesterEmail: input.requester.email });
}
