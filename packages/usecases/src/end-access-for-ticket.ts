import type { AccessRequest, TicketProviderName } from "@keyturn/core";
import { type Deps, NO_INTEGRATIONS } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";
import { transitionRequest } from "./transition-request.js";

/**
 * The ticket some access is bound to closed (a verified webhook, or the poll): Keyturn ends that
 * access through the ordinary revoke path (lease released, assignment reconciled, sessions cut
 * off), audited as "ended: ticket X closed". Idempotent: a second report of the same close finds
 * nothing open and ends nothing.
 */
export async function endAccessForTicket(
  deps: Deps,
  input: { provider: TicketProviderName; key: string; state: string },
): Promise<Result<{ ended: AccessRequest[] }>> {
  const ids = await deps.uow.run((tx) => tx.requests.findOpenByTicket(input.provider, input.key));
  const ended: AccessRequest[] = [];
  for (const requestId of ids) {
    const result = await transitionRequest(deps, {
      requestId,
      actor: SYSTEM,
      command: () =>
        ok({ type: "EndForClosedTicket", provider: input.provider, key: input.key, state: input.state }),
    });
    if (result.ok) {
      ended.push(result.value);
    } else if (result.error.code !== "INVALID_TRANSITION") {
      // INVALID_TRANSITION: it ended (expired, revoked) since it was listed; anything else is news.
      return result;
    }
  }
  return ok({ ended });
}

/**
 * A verified webhook says a ticket closed (or was deleted). Jira signs no timestamp, so an old
 * delivery replayed after the ticket was reopened would still verify: the ticket is looked up
 * first, and an answer that it is open now ends nothing. When the provider cannot answer, the
 * signed event is trusted: ending access early is the safe side of a doubt.
 */
export async function endAccessForClosedTicketEvent(
  deps: Deps,
  input: { provider: TicketProviderName; key: string; state: string },
): Promise<Result<{ ended: AccessRequest[]; reopened: boolean }>> {
  const provider = (deps.integrations ?? NO_INTEGRATIONS).tickets[input.provider];
  const now = provider === undefined ? null : await provider.lookup(input.key);
  if (now?.kind === "found" && now.ticket.state.category === "open") {
    return ok({ ended: [], reopened: true });
  }
  const state = now?.kind === "found" ? now.ticket.state.name : input.state;
  const result = await endAccessForTicket(deps, { ...input, state });
  return result.ok ? ok({ ended: result.value.ended, reopened: false }) : result;
}
