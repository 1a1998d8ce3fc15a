import { randomUUID } from "node:crypto";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "./client.js";
import type { Db } from "./prisma-types.js";

const database = useTestDatabase();
let db: Db;
const warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(warning.message);

beforeAll(async () => {
  db = createPrismaClient({ databaseUrl: database.url });
  process.on("warning", onWarning);
});
afterAll(async () => {
  process.off("warning", onWarning);
  await db.$disconnect();
});

describe("the Prisma client over pg", () => {
  it("runs a transaction's relation queries one at a time on its one pg client", async () => {
    // An include of two relations is a join node, whose queries Prisma's interpreter sends at once;
    // queries of one transaction awaited together do the same.
    const identityId = randomUUID();
    const assignmentId = randomUUID();
    await db.identity.create({ data: { id: identityId, email: `${identityId}@example.com` } });
    await db.assignment.create({
      data: { id: assignmentId, accountId: "111122223333", permissionSetName: "S3Access", identityId },
    });
    await db.reconcileAttempt.create({
      data: {
        id: randomUUID(),
        assignmentId,
        operation: "create",
        outcome: "succeeded",
        requestIds: [],
        startedAt: new Date(),
        finishedAt: new Date(),
      },
    });
    const rows = await db.$transaction(async (tx) =>
      Promise.all(
        Array.from({ length: 5 }, () =>
          tx.assignment.findUnique({
            where: { id: assignmentId },
            include: { identity: true, attempts: true, leases: { include: { request: true } } },
          }),
        ),
      ),
    );
    expect(rows.map((row) => row?.attempts.length)).toEqual([1, 1, 1, 1, 1]);
    // pg warns once per process when a client is asked for a query while it runs one (pg 9 throws).
    expect(warnings.filter((w) => w.includes("already executing a query"))).toEqual([]);
  });
});
