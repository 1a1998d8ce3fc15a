import type { AccessRequest } from "@keyturn/core";
import { type Command, decide } from "@keyturn/core";
import { applyDecision } from "./apply-decision.js";
import type { AuditActor, Deps, Transaction } from "./ports.js";
import { err, ok, type Result } from "./result.js";

/**
 * The shape of every use case on an existing request: lock the row, let core decide, persist the
 * outcome in the same transaction. The row lock makes concurrent decisions queue up, so exactly
 * one wins and the rest see the request already decided.
 */
export async function transitionRequest(
  deps: Deps,
  input: {
    requestId: string;
    actor: AuditActor;
    command: (tx: Transaction, request: AccessRequest) => Promise<Result<Command>> | Result<Command>;
  },
): Promise<Result<AccessRequest>> {
  return deps.uow.run(async (tx) => {
    const before = await tx.requests.lock(input.requestId);
    if (before === null) {
      return err("REQUEST_NOT_FOUND", `no request ${input.requestId}`);
    }
    const command = await input.command(tx, before);
    if (!command.ok) {
      return command;
    }
    const decision = decide(before, command.value, deps.clock.now());
    if (!decision.ok) {
      return err(decision.error.code, decision.error.message, { status: before.status });
    }
    await applyDecision(tx, { before, after: decision.state, events: decision.events, actor: input.actor });
    return ok(decision.state);
  });
}
