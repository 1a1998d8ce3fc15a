import { DatabaseError, type PrismaClient } from "@keyturn/db";
import { type Deps, reviewRequest, submitRequest } from "@keyturn/usecases";
import { approver, person } from "./access-world.js";

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
