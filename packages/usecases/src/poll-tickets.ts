import type { AccessRequest, TicketLookup } from "@keyturn/core";
import { endAccessForTicket } from "./end-access-for-ticket.js";
import { type Deps, NO_INTEGRATIONS } from "./ports.js";
import { ok, type Result } from "./result.js";

export type TicketPollReport = {
  checked: number;
  ended: AccessRequest[];
  /** Tickets whose provider could not answer (checked again at the next poll). */
  failed: Array<{ provider: string; key: string; reason: string }>;
};

/**
 * The safety net under the webhooks: every ticket an open access is bound to is looked up again,
 * and a closed one ends that access as a webhook would have. A ticket the provider cannot answer
 * about is left as it is and asked again at the next poll (a failed check never ends, nor keeps,
 * anything by itself).
 */
export async function pollTickets(deps: Deps): Promise<Result<TicketPollReport>> {
  const bindings = await deps.uow.run((tx) => tx.requests.openTicketBindings());
  const tickets = (deps.integrations ?? NO_INTEGRATIONS).tickets;
  const report: TicketPollReport = { checked: 0, ended: [], failed: [] };
  for (const binding of bindings) {
    const provider = tickets[binding.provider];
    const lookup: TicketLookup =
      provider === undefined
        ? {
            kind: "check_failed",
            key: binding.key,
            reason: "unavailable",
            detail: `${binding.provider} is not configured`,
            checkedAt: deps.clock.now(),
          }
        : await provider.lookup(binding.key);
    report.checked += 1;
    if (lookup.kind !== "found") {
      report.failed.push({
        provider: binding.provider,
        key: binding.key,
        reason: lookup.kind === "check_failed" ? `${lookup.reason}: ${lookup.detail}` : lookup.kind,
      });
      continue;
    }
    if (lookup.ticket.state.category !== "closed") {
      continue;
    }
    const ended = await endAccessForTicket(deps, {
      provider: binding.provider,
      key: binding.key,
      state: lookup.ticket.state.name,
    });
    if (!ended.ok) {
      return ended;
    }
    report.ended.push(...ended.value.ended);
  }
  return ok(report);
}
