// Leases already granted, as the reconciler would have left them: for benches about what happens
// when they END. Granting K assignments through the Identity Center quota would take K * ~6 calls
// at 18/s (minutes for K in the hundreds) and is not what those benches measure.
import type { PrismaClient } from "../../packages/db/src/index.js";
import type { SeedData } from "../../packages/testkit/src/index.js";
import {
  activateRequest,
  type Deps,
  reviewRequest,
  submitRequest,
} from "../../packages/usecases/src/index.js";

/** Runs `work` over `items` with at most `width` at a time. */
export async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        results[i] = await work(items[i] as T);
      }
    }),
  );
  return results;
}

export type BenchUser = { userName: string; emails: string[] };

/**
 * Each user's request of `flowName` submitted, approved by ann@example.com and activated through
 * the use cases; the grant taken as done (identity pinned to its Identity Center user, assignment
 * marked Keyturn's and present, seeded into the emulator in `order`). Every outbox message but
 * the lease-end ones (`assignment.reconcile`, `cutoff.arm`) is marked relayed. Answers the
 * request ids, in the users' order.
 */
export async function grantActiveLeases(input: {
  db: PrismaClient;
  deps: Deps;
  emulator: { seed(data: SeedData): Promise<unknown> };
  users: readonly BenchUser[];
  /** Identity Center user id by user name, as the emulator's seed answered. */
  userIds: Readonly<Record<string, string>>;
  flowName: string;
  accountId: string;
  permissionSet: string;
  durationSeconds: number;
  /** The order the assignments are seeded in (AWS promises none). Default: as given. */
  order?: (users: readonly BenchUser[]) => BenchUser[];
}): Promise<string[]> {
  const { db, deps } = input;
  const approver = { email: "ann@example.com", audit: { type: "identity", id: "ann@example.com" } } as const;
  const requestIds = await inParallel(input.users, 16, async (user) => {
    const email = user.emails[0] ?? "";
    const submitted = await submitRequest(deps, {
      flowName: input.flowName,
      requester: { email, audit: { type: "identity", id: email } },
      source: "api",
      durationSeconds: input.durationSeconds,
    });
    if (!submitted.ok) {
      throw new Error(submitted.error.message);
    }
    const approved = await reviewRequest(deps, {
      requestId: submitted.value.id,
      reviewer: approver,
      decision: "approve",
    });
    if (!approved.ok) {
      throw new Error(approved.error.message);
    }
    return submitted.value.id;
  });
  const now = new Date();
  // Their jobs ran long ago: grants, notifications, pending time-outs.
  await db.outboxMessage.updateMany({ where: { sentAt: null }, data: { sentAt: now } });
  await inParallel(input.users, 16, (user) =>
    db.identity.update({
      where: { email: user.emails[0] ?? "" },
      data: { identityStoreUserId: input.userIds[user.userName] ?? null, pinnedAt: now },
    }),
  );
  await db.assignment.updateMany({
    data: { provisionIntentAt: now, observedPresent: true, lastReconciledAt: now },
  });
  await input.emulator.seed({
    assignments: (input.order?.(input.users) ?? [...input.users]).map((user) => ({
      accountId: input.accountId,
      permissionSet: input.permissionSet,
      principal: { userName: user.userName },
    })),
  });
  await inParallel(requestIds, 16, async (requestId) => {
    const result = await activateRequest(deps, { requestId });
    if (!result.ok) {
      throw new Error(result.error.message);
    }
  });
  // Only the lease-end messages are left to relay; "access granted" went out long ago.
  await db.outboxMessage.updateMany({
    where: { sentAt: null, topic: { notIn: ["assignment.reconcile", "cutoff.arm"] } },
    data: { sentAt: now },
  });
  return requestIds;
}
