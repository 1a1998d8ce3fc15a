import { randomUUID } from "node:crypto";
import type { FlowRules } from "@keyturn/core";
import { createUnitOfWork, type PrismaClient } from "@keyturn/db";
import type { CallRecord, SeedUser } from "@keyturn/testkit";
import { testFlowRules } from "@keyturn/testkit";
import { type Deps, type Principal, putFlow, reviewRequest, submitRequest } from "@keyturn/usecases";

// What the fault tests share: a flow anyone may request and ann approves, the use cases an API or
// Slack app would call, and readers of the emulator's call log and of the audit log.

export const ACCOUNT = "111122223333";
export const person = (email: string): Principal => ({ email, audit: { type: "identity", id: email } });
export const approver = person("ann@example.com");

export function flowRules(overrides: Partial<FlowRules> = {}): FlowRules {
  return testFlowRules({ defaultDurationSeconds: 600, maxDurationSeconds: 3600, ...overrides });
}

/** The use cases' dependencies over a database, as the API and the Slack app wire them. */
export function useCaseDeps(db: PrismaClient): Deps {
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  return { uow: createUnitOfWork(db, { clock, ids }), clock, ids };
}

export async function putTestFlow(deps: Deps, name: string, rules: FlowRules): Promise<void> {
  const result = await putFlow(deps, { name, rules, by: { type: "system", id: "test" } });
  if (!result.ok) {
    throw new Error(`could not put flow ${name}: ${result.error.message}`);
  }
}

/** Users `<prefix>0` … of the emulator's identity store, with `<prefix>N@example.com` emails. */
export function numberedUsers(count: number, prefix = "user"): SeedUser[] {
  return Array.from({ length: count }, (_, i) => ({
    userName: `${prefix}${i}`,
    emails: [`${prefix}${i}@example.com`],
  }));
}

/** Submits a request and has ann approve it; resolves with the request id. */
export async function approveRequest(
  deps: Deps,
  input: { flowName: string; email: string; durationSeconds?: number },
): Promise<string> {
  const submitted = await submitRequest(deps, {
    flowName: input.flowName,
    requester: person(input.email),
    source: "api",
    ...(input.durationSeconds === undefined ? {} : { durationSeconds: input.durationSeconds }),
  });
  if (!submitted.ok) {
    throw new Error(`submit failed: ${submitted.error.message}`);
  }
  const reviewed = await reviewRequest(deps, {
    requestId: submitted.value.id,
    reviewer: approver,
    decision: "approve",
  });
  if (!reviewed.ok) {
    throw new Error(`approval failed: ${reviewed.error.message}`);
  }
  return submitted.value.id;
}

export type AssignmentOperation = "CreateAccountAssignment" | "DeleteAccountAssignment";

/** The create or delete calls the emulator received for one principal. */
export function callsFor(log: readonly CallRecord[], operation: AssignmentOperation, principalId: string) {
  return log.filter((call) => call.operation === operation && call.input.PrincipalId === principalId);
}

/** How many calls of an operation each principal received. */
export function countByPrincipal(log: readonly CallRecord[], operation: AssignmentOperation) {
  const counts = new Map<string, number>();
  for (const call of log) {
    if (call.operation === operation && typeof call.input.PrincipalId === "string") {
      counts.set(call.input.PrincipalId, (counts.get(call.input.PrincipalId) ?? 0) + 1);
    }
  }
  return counts;
}

/** Audit actions of one request, oldest first. */
export async function auditActions(db: PrismaClient, requestId: string): Promise<string[]> {
  const events = await db.auditEvent.findMany({ where: { requestId }, orderBy: { seq: "asc" } });
  return events.map((event) => event.action);
}
