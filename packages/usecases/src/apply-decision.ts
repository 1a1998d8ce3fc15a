import { type AccessRequest, assertNever, type DomainEvent } from "@keyturn/core";
import { PREARM_LEAD_MS } from "./cut-off-sessions.js";
import type { AuditActor, Transaction } from "./ports.js";

/** Dates become ISO strings so the audit payload is plain, canonical JSON. */
function plain(event: DomainEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

export function auditAction(event: DomainEvent): string {
  switch (event.type) {
    case "RequestSubmitted":
      return "request.submitted";
    case "ReviewRecorded":
      return "request.review_recorded";
    case "RequestApproved":
      return event.mode === "override" ? "request.override_approved" : "request.approved";
    case "OnCallNotApproved":
      return "request.on_call_not_approved";
    case "RequestDenied":
      return event.override ? "request.override_denied" : "request.denied";
    case "RequestCancelled":
      return "request.cancelled";
    case "RequestTimedOut":
      return "request.timed_out";
    case "RequestActivated":
      return "request.activated";
    case "RequestFailed":
      return "request.failed";
    case "RequestExtended":
      return "request.extended";
    case "RequestRevoked":
      return "request.revoked";
    case "RequestExpired":
      return "request.expired";
    default:
      return assertNever(event);
  }
}

/**
 * Persists one decision: the new state, exactly one audit event per domain event, the lease
 * changes it implies and the outbox messages that make the worker act — all in the caller's
 * transaction, so a crash leaves either all of it or none.
 */
export async function applyDecision(
  tx: Transaction,
  input: {
    before: AccessRequest | null;
    after: AccessRequest;
    events: DomainEvent[];
    actor: AuditActor;
    idempotencyKey?: string;
    idempotencyFingerprint?: string;
  },
): Promise<void> {
  const { before, after, events, actor } = input;
  if (before === null) {
    await tx.requests.insert(after, {
      ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
      ...(input.idempotencyFingerprint === undefined
        ? {}
        : { idempotencyFingerprint: input.idempotencyFingerprint }),
    });
  } else {
    await tx.requests.update(before, after);
  }
  for (const event of events) {
    const audit = await tx.audit.append({
      actor,
      action: auditAction(event),
      requestId: after.id,
      data: plain(event),
    });
    await applyLeaseEffects(tx, after, event, audit.id);
    await tx.outbox.add({
      topic: "request.notify",
      key: `notify:${audit.id}`,
      payload: { requestId: after.id, event: event.type, auditEventId: audit.id },
    });
  }
}

async function applyLeaseEffects(
  tx: Transaction,
  request: AccessRequest,
  event: DomainEvent,
  auditId: string,
) {
  const reconcile = async (assignmentId: string, cause: string, availableAt?: Date) =>
    tx.outbox.add({
      topic: "assignment.reconcile",
      key: `reconcile:${auditId}`,
      payload: { assignmentId, requestId: request.id, cause },
      ...(availableAt === undefined ? {} : { availableAt }),
    });
  // The session cut-off is pre-armed PREARM_LEAD_MS before the lease's end (written with the end
  // as its start, so S3 refuses at the end by its own clock), and armed again at the end itself
  // (what lands it if the pre-arm was lost or did not fit), by runs of their own, independent of
  // (and before) the removal, which waits its turn at the Identity Center quota. Leases ending at
  // the same instant share each run: one PutBucketPolicy per bucket however many end together.
  const cutOffAt = async (endsAt: Date, at: Date) => {
    const prearmAt = endsAt.getTime() - PREARM_LEAD_MS;
    if (prearmAt > at.getTime()) {
      await tx.outbox.add({
        topic: "cutoff.arm",
        key: `cutoff-prearm-at:${prearmAt}`,
        payload: {},
        availableAt: new Date(prearmAt),
        ifAbsent: true,
      });
    }
    await tx.outbox.add({
      topic: "cutoff.arm",
      key: `cutoff-at:${endsAt.getTime()}`,
      payload: {},
      availableAt: endsAt,
      ifAbsent: true,
    });
  };
  // At once: a revocation or failure ends access now; a lease shorter than the lead is pre-armed
  // now; and a grant extended, activated or granted again moves or withdraws a cut-off pre-armed
  // for its old end before that end comes (if this lags or S3 refuses the put, the user is
  // refused from the old end: fail-safe, never open).
  const cutOffNow = async () => tx.outbox.add({ topic: "cutoff.arm", key: `cutoff:${auditId}`, payload: {} });

  switch (event.type) {
    case "RequestApproved": {
      // Until activation the lease's end is provisional (approval + duration); activation moves it.
      const lease = await tx.leases.create({
        requestId: request.id,
        key: { ...request.target, identityId: request.requesterId },
        startsAt: event.at,
        endsAt: new Date(event.at.getTime() + request.durationSeconds * 1000),
      });
      await reconcile(lease.assignmentId, "approved");
      await cutOffNow();
      return;
    }
    case "RequestActivated":
    case "RequestExtended": {
      const lease = await tx.leases.setEndsAt(request.id, event.expiresAt);
      if (lease !== null) {
        await reconcile(lease.assignmentId, "lease_end", event.expiresAt);
        await cutOffAt(event.expiresAt, event.at);
        await cutOffNow();
      }
      return;
    }
    case "RequestRevoked":
    case "RequestExpired":
    case "RequestFailed": {
      const lease = await tx.leases.release(request.id, event.at);
      if (lease !== null) {
        await reconcile(lease.assignmentId, event.type === "RequestExpired" ? "expired" : "released");
        if (event.type !== "RequestExpired") {
          // An expiry was cut off at its end already; a revocation or failure ends access now.
          await cutOffNow();
        }
      }
      return;
    }
    case "RequestSubmitted":
      // Finds the requester's Identity Center user while the request waits for approval.
      await tx.outbox.add({
        topic: "identity.resolve",
        key: `resolve:${request.id}`,
        payload: { identityId: request.requesterId },
      });
      if (request.status === "pending") {
        await tx.outbox.add({
          topic: "request.time-out",
          key: `timeout:${request.id}`,
          payload: { requestId: request.id },
          availableAt: request.pendingUntil,
        });
        if (request.flow.rules.onCallApproval !== undefined) {
          // Asked of the provider after the commit, by the worker: the submission (and Slack's
          // 3-second ack) never waits on it, and a crash before it runs leaves the request pending
          // with the approvers, the check still due from the outbox.
          await tx.outbox.add({
            topic: "request.on-call-check",
            key: `on-call:${request.id}`,
            payload: { requestId: request.id },
          });
        }
      }
      return;
    case "ReviewRecorded":
    case "OnCallNotApproved":
    case "RequestDenied":
    case "RequestCancelled":
    case "RequestTimedOut":
      return;
    default:
      assertNever(event);
  }
}
