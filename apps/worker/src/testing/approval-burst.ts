import { DatabaseError, type PrismaClient, verifyAuditChain } from "@keyturn/db";
import type { AwsEmulator } from "@keyturn/testkit";
import { type Deps, reviewRequest, submitRequest } from "@keyturn/usecases";
import { expect } from "vitest";
import { eventually } from "../worker-harness.js";
import { approver, auditActions, countByPrincipal, person } from "./access-world.js";

/** What an API client does with a 503: the same call again, shortly. Counts the retries. */
async function withRetries<T>(call: () => Promise<T>, retries: { count: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof DatabaseError && error.retryable) || attempt >= 100) {
        throw error;
      }
      retries.count += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Submits (with an idempotency key, so a retried submit cannot make a second request) and
 * approves, for burst{i}@example.com on flow "s3". A retried approval whose first attempt committed
 * but whose answer was lost is refused as already decided; the client then reads the request to
 * learn that it went through.
 */
export async function submitAndApprove(
  world: { deps: Deps; db: PrismaClient },
  i: number,
  retries: { count: number },
): Promise<string> {
  const submitted = await withRetries(
    () =>
      submitRequest(world.deps, {
        flowName: "s3",
        requester: person(`burst${i}@example.com`),
        source: "api",
        idempotencyKey: `burst-${i}`,
      }),
    retries,
  );
  if (!submitted.ok) {
    throw new Error(`submit ${i}: ${submitted.error.message}`);
  }
  const requestId = submitted.value.id;
  const reviewed = await withRetries(
    () => reviewRequest(world.deps, { requestId, reviewer: approver, decision: "approve" }),
    retries,
  );
  if (!reviewed.ok) {
    const row = await withRetries(
      () => world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } }),
      retries,
    );
    if (!["approved", "active"].includes(row.status)) {
      throw new Error(`approval ${i}: ${reviewed.error.code} and the request is ${row.status}`);
    }
  }
  return requestId;
}

/**
 * After a burst of `requestIds` through a fault: every request became active (within a minute),
 * exactly once, with one CreateAccountAssignment per principal and no delete, and the audit
 * chain verifies. `workerOutput` is shown when the requests do not get there.
 */
export async function expectEveryApprovalAppliedOnce(input: {
  db: PrismaClient;
  emulator: AwsEmulator;
  requestIds: string[];
  workerOutput: () => string;
}): Promise<void> {
  const { db, emulator, requestIds } = input;
  const count = requestIds.length;
  await eventually(
    async () =>
      (await db.accessRequest.count({ where: { id: { in: requestIds }, status: "active" } })) === count,
    120_000,
  ).catch((error: unknown) => {
    throw new Error(`not every request became active\n${input.workerOutput().slice(-8_000)}`, {
      cause: error,
    });
  });
  expect(new Set(requestIds).size).toBe(count);
  expect(await db.accessRequest.count()).toBe(count);
  for (const requestId of requestIds) {
    expect(await auditActions(db, requestId)).toEqual([
      "request.submitted",
      "request.approved",
      "request.activated",
    ]);
  }
  const log = emulator.callLog();
  const creates = countByPrincipal(log, "CreateAccountAssignment");
  expect(creates.size).toBe(count);
  expect([...creates.values()].every((n) => n === 1)).toBe(true);
  expect(countByPrincipal(log, "DeleteAccountAssignment").size).toBe(0);
  expect(emulator.assignments()).toHaveLength(count);
  expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
}
