import { randomUUID } from "node:crypto";
import { testFlowRules } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  AppError,
  activateRequest,
  type Deps,
  extendRequest,
  type Principal,
  putFlow,
  reviewRequest,
  revokeRequest,
  submitRequest,
} from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "./audit.js";
import { createPrismaClient } from "./client.js";
import { DatabaseError } from "./errors.js";
import type { Db } from "./prisma-types.js";
import { createBucketPolicyUnitOfWork, createUnitOfWork } from "./unit-of-work.js";

const database = useTestDatabase();
let db: Db;
let deps: Deps;
let clockMs = Date.UTC(2026, 0, 1);
const clock = { now: () => new Date(clockMs) };

const rules = testFlowRules({
  title: "S3 prod",
  approvers: [
    { kind: "email", email: "ann@example.com" },
    { kind: "email", email: "ben@example.com" },
  ],
  reason: { required: true },
  pendingTimeoutSeconds: 600,
  extensions: { maxCount: 1, maxExtensionSeconds: 1800, requiresApproval: false },
});

const person = (email: string): Principal => ({ email, audit: { type: "identity", id: email } });
const rita = person("rita@example.com");

beforeAll(async () => {
  db = createPrismaClient({ databaseUrl: database.url });
  deps = {
    uow: createUnitOfWork(db, { clock, ids: { uuid: randomUUID } }),
    clock,
    ids: { uuid: randomUUID },
  };
  const flow = await putFlow(deps, { name: "s3-prod", rules, by: { type: "system", id: "test" } });
  expect(flow.ok).toBe(true);
});
afterAll(async () => {
  await db.$disconnect();
});

async function approvedRequest(requester = rita) {
  const submitted = await submitRequest(deps, {
    flowName: "s3-prod",
    requester,
    reason: "INC-1",
    source: "api",
  });
  if (!submitted.ok) {
    throw new Error(submitted.error.message);
  }
  const approved = await reviewRequest(deps, {
    requestId: submitted.value.id,
    reviewer: person("ann@example.com"),
    decision: "approve",
  });
  expect(approved.ok).toBe(true);
  return submitted.value.id;
}

describe("use cases on PostgreSQL", () => {
  it("writes state, lease, audit and outbox together, and moves the lease with the request", async () => {
    const id = await approvedRequest();
    const lease = await db.lease.findUniqueOrThrow({ where: { requestId: id } });
    expect(lease.releasedAt).toBeNull();
    expect(
      await db.outboxMessage.count({
        where: { topic: "assignment.reconcile", payload: { path: ["requestId"], equals: id } },
      }),
    ).toBe(1);

    clockMs += 5_000;
    const active = await activateRequest(deps, { requestId: id });
    expect(active.ok && active.value.expiresAt).toEqual(new Date(clockMs + 3600_000));
    expect((await db.lease.findUniqueOrThrow({ where: { requestId: id } })).endsAt).toEqual(
      new Date(clockMs + 3600_000),
    );
    const delayed = await db.outboxMessage.findFirstOrThrow({
      where: { payload: { path: ["cause"], equals: "lease_end" } },
      orderBy: { createdAt: "desc" },
    });
    expect(delayed.availableAt).toEqual(new Date(clockMs + 3600_000));

    const extended = await extendRequest(deps, { requestId: id, by: rita, additionalSeconds: 600 });
    expect(extended.ok).toBe(true);
    expect((await db.lease.findUniqueOrThrow({ where: { requestId: id } })).endsAt).toEqual(
      new Date(clockMs + 4200_000),
    );

    const revoked = await revokeRequest(deps, { requestId: id, by: rita, asAdmin: false });
    expect(revoked.ok && revoked.value.status).toBe("revoked");
    expect((await db.lease.findUniqueOrThrow({ where: { requestId: id } })).releasedAt).toEqual(clock.now());
    const actions = (await db.auditEvent.findMany({ where: { requestId: id }, orderBy: { seq: "asc" } })).map(
      (e) => e.action,
    );
    expect(actions).toEqual([
      "request.submitted",
      "request.approved",
      "request.activated",
      "request.extended",
      "request.revoked",
    ]);
  });

  it("shares one assignment between overlapping requests of one person", async () => {
    const first = await approvedRequest(person("olga@example.com"));
    const second = await approvedRequest(person("olga@example.com"));
    const leases = await db.lease.findMany({ where: { requestId: { in: [first, second] } } });
    expect(leases).toHaveLength(2);
    expect(new Set(leases.map((l) => l.assignmentId)).size).toBe(1);
  });

  it("fails a unique violation at once as a CONFLICT AppError that is not retryable, writing nothing", async () => {
    const email = `dup-${randomUUID()}@example.com`;
    await db.identity.create({ data: { id: randomUUID(), email } });
    let attempts = 0;
    const failure = await deps.uow
      .run(async (tx) => {
        attempts += 1;
        await tx.audit.append({
          action: "test.marker",
          actor: { type: "system", id: "test" },
          data: { email },
        });
        // A real PostgreSQL unique violation, surfacing inside the unit.
        await db.identity.create({ data: { id: randomUUID(), email } });
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseError);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: "CONFLICT", retryable: false });
    expect(attempts).toBe(1);
    expect(await db.auditEvent.count({ where: { action: "test.marker" } })).toBe(0);
  });

  it("lets an AppError thrown inside either unit of work leave as it is (code, retryable), after one attempt", async () => {
    const bucketUow = createBucketPolicyUnitOfWork(db, { clock, ids: { uuid: randomUUID } });
    for (const run of [deps.uow.run.bind(deps.uow), bucketUow.run.bind(bucketUow)]) {
      let attempts = 0;
      const thrown = new AppError("THROTTLED", "slow down", { retryable: true });
      const failure = await run(async () => {
        attempts += 1;
        throw thrown;
      }).catch((error: unknown) => error);
      expect(failure).toBe(thrown);
      expect(attempts).toBe(1);
    }
  });

  it("pins a person first seen through Slack to their Slack user in the action's own transaction", async () => {
    const fromSlack = (email: string, slackUserId: string): Principal => ({
      email,
      slackUserId,
      audit: { type: "identity", id: email },
    });
    const id = await approvedRequest(fromSlack("sam@example.com", "U0SAM"));
    // Whoever reads the request right after the commit sees who filed it, as a Slack user.
    const filed = await db.accessRequest.findUniqueOrThrow({ where: { id }, select: { requester: true } });
    expect(filed.requester).toMatchObject({ email: "sam@example.com", slackUserId: "U0SAM" });
    // A Slack user already pinned to someone else is never moved: the new email stays unpinned.
    await approvedRequest(fromSlack("sam.other@example.com", "U0SAM"));
    const other = await db.identity.findUniqueOrThrow({ where: { email: "sam.other@example.com" } });
    expect(other.slackUserId).toBeNull();
  });

  it("rolls back everything a rejected command touched", async () => {
    const id = await approvedRequest(person("pia@example.com"));
    const before = await db.identity.count();
    const result = await reviewRequest(deps, {
      requestId: id,
      reviewer: person("stranger@example.com"),
      decision: "approve",
    });
    expect(result.ok).toBe(false);
    expect(await db.identity.count()).toBe(before);
  });

  it("lets exactly one of 20 concurrent approvals win", async () => {
    const approvers = Array.from({ length: 20 }, (_, i) => `approver${i}@example.com`);
    await putFlow(deps, {
      name: "many",
      rules: { ...rules, approvers: approvers.map((email) => ({ kind: "email" as const, email })) },
      by: { type: "system", id: "test" },
    });
    const submitted = await submitRequest(deps, {
      flowName: "many",
      requester: rita,
      reason: "x",
      source: "api",
    });
    if (!submitted.ok) {
      throw new Error(submitted.error.message);
    }
    const results = await Promise.all(
      approvers.map((email) =>
        reviewRequest(deps, { requestId: submitted.value.id, reviewer: person(email), decision: "approve" }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(
      Array(19).fill("ALREADY_DECIDED"),
    );
    expect(await db.lease.count({ where: { requestId: submitted.value.id } })).toBe(1);
    expect(
      await db.auditEvent.count({ where: { requestId: submitted.value.id, action: "request.approved" } }),
    ).toBe(1);
  });

  it("keeps a verifiable hash chain under concurrent writers, and finds a tampered event", async () => {
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
    const victim = await db.auditEvent.findFirstOrThrow({
      where: { action: "request.approved" },
      orderBy: { seq: "asc" },
    });
    await db.$executeRaw`UPDATE "AuditEvent" SET data = jsonb_set(data, '{approverIds}', '["mallory"]') WHERE seq = ${victim.seq}`;
    const result = await verifyAuditChain(db, 7);
    expect(result).toMatchObject({
      ok: false,
      brokenAt: { seq: victim.seq.toString(), reason: "hash_mismatch" },
    });
  });
});
