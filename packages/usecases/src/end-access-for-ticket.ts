import type { AccessRequest, TicketProviderName } from "@keyturn/core";
import type { Deps } from "./ports.js";
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
