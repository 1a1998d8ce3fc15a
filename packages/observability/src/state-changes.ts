import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "./logger.js";

// One info line per state change, from the audit events each transaction committed: every change
// already has exactly one (DESIGN.md invariant 6), with the request, assignment and AWS request ids
// it concerns. The line also carries what the code that caused it was doing (the job and its id in
// the worker): that context travels with the async work, so nothing has to pass a logger down.

const context = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs `work` with these fields added to every state-change line it causes. */
export function withLogContext<T>(fields: Record<string, unknown>, work: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, work);
}

/** A committed audit event, as the database layer reports it (structural: no dependency on db). */
export type CommittedChange = {
  id: string;
  action: string;
  requestId?: string;
  actor: { type: string; id: string; label?: string };
  data: Record<string, unknown>;
};

// Ids and causes worth grepping for; the rest of an event's data stays in the audit log.
const CARRIED = [
  "assignmentId",
  "awsRequestId",
  "identityId",
  "identityStoreUserId",
  "previousIdentityStoreUserId",
  "permissionSetName",
  "accountId",
  "principalId",
  "bucket",
  "reason",
  "failureReason",
] as const;

/** The observer to give a unit of work: logs each committed change once, at info. */
export function logStateChanges(logger: Logger): (changes: readonly CommittedChange[]) => void {
  return (changes) => {
    for (const change of changes) {
      const requestIds = change.data.requestIds;
      const fields: Record<string, unknown> = {
        ...context.getStore(),
        event: change.action,
        actor: `${change.actor.type}:${change.actor.id}`,
        ...(change.actor.label === undefined ? {} : { actorLabel: change.actor.label }),
        auditId: change.id,
      };
      if (change.requestId !== undefined) {
        fields.requestId = change.requestId;
      } else if (Array.isArray(requestIds)) {
        fields.requestIds = requestIds;
        if (requestIds.length === 1) {
          fields.requestId = requestIds[0];
        }
      }
      for (const key of CARRIED) {
        if (change.data[key] !== undefined && change.data[key] !== null) {
          fields[key] = change.data[key];
        }
      }
      logger.info(fields, change.action);
    }
  };
}
