import { randomUUID } from "node:crypto";
import { createUnitOfWork } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator, testFlowRules } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  type Deps,
  type Principal,
  putFlow,
  reviewRequest,
  revokeRequest,
  submitRequest,
} from "@keyturn/usecases";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearPrefix, createRecordingNotifier, eventually, startTestWorker } from "./worker-harness.js";

const _ACCOUNT = "111122223333";
const database = useTestDatabase();
const prefix = `keyturn-test-${randomUUID().slice(0, 8)}`;
const notifier = createRecordingNotifier();
let emulator: AwsEmulator;
let harness: Awaited<ReturnType<typeof startTestWorker>>;
let deps: Deps;

const person = (email: string): Principal => ({ email, audit: { type: "identity", id: email } });
const rules = testFlowRules({
  title: "Short S3 access",
  defaultDurationSeconds: 2,
  maxDurationSeconds: 3600,
  pendingTimeoutSeconds: 1,
});

beforeAll(async () => {
  emulator = await startAwsEmulator({ assignmentDelayMs: 20 });
  emulator.seed(standardSeed());
  harness = await startTestWorker({
    databaseUrl: database.url,
    emulator,
    prefix,
    notifier,
    sweepIntervalMs: 1_000,
  });
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  deps = { uow: createUnitOfWork(harness.db, { clock, ids }), clock, ids };
  expect((await putFlow(deps, { name: "short", rules, by: { type: "system", id: "test" } })).ok).toBe(true);
});

afterAll(async () => {
  await harness.stop();
  const cleanup = new Redis("redis://127.0.0.1:6379");
  await clearPrefix(cleanup, prefix);
  await cleanup.quit();
  await emulator.close();
});

async function approved(email: string, durationSeconds = 2) {
  const submitted = await submitRequest(deps, {
    flowName: "short",
    requester: person(email),
    source: "api",
    durationSeconds,
  });
  if (!submitted.ok) {
    throw new Error(submitted.error.message);
  }
  const review = await reviewRequest(deps, {
    requestId: submitted.value.id,
    reviewer: person("ann@example.com"),
    decision: "approve",
  });
  expect(review.ok).toBe(true);
  return submitted.value.id;
}

const requestRow = (id: string) => harness.db.accessRequest.findUniqueOrThrow({ where: { id } });
const userIdOf = async (email: string) =>
  (await harness.db.identity.findUniqueOrThrow({ where: { email } })).identityStoreUserId;

describe("the worker", () => {
  it("grants on approval and removes at expiry, not before, with the requester notified and audited", async ({
    annotate,
  }) => {
    const id = await approved("alice@example.com");
    // Active for two seconds only: a poll on a busy machine may first see it already expired.
    const active = await eventually(async () => {
      const row = await requestRow(id);
      return row.status === "active" || row.status === "expired" ? row : undefined;
    });
    expect(active.activatedAt).not.toBeNull();
    const principal = await userIdOf("alice@example.com");
    const created = emulator
      .callLog()
      .find((c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === principal);
    expect(created?.outcome).toBe("ok");
    const expiresAt = active.expiresAt?.getTime() ?? 0;

    const expired = await eventually(async () => {
      const row = await requestRow(id);
      return row.status === "expired" ? row : undefined;
    });
    const calls = emulator
      .callLog()
      .filter((c) => c.service === "sso-admin")
      .map((c) => `${c.at - expiresAt} ${c.operation} ${c.outcome}`);
    expect(
      emulator.assignments().some((a) => a.principalId === principal),
      calls.join("\n"),
    ).toBe(false);
    const deletion = emulator
      .callLog()
      .find((c) => c.operation === "DeleteAccountAssignment" && c.input.PrincipalId === principal);
    // The removal was asked for after the lease ended, never before. How soon after is a figure of
    // bench/revocation-lag (a loaded machine only moves it), and invariant 4's bound, the first
    // sweep after the end, is asserted as events in redis-flush.int.test.ts.
    expect(deletion?.at).toBeGreaterThanOrEqual(expiresAt);
    await annotate(`delete asked ${(deletion?.at ?? 0) - expiresAt} ms after the lease's end`);
    expect(expired.endedAt).not.toBeNull();
    const events = await eventually(async () => {
      const seen = notifier.seen.filter((n) => n.requestId === id).map((n) => n.event);
      return seen.includes("RequestExpired") ? seen : undefined;
    });
    expect(events).toEqual(
      expect.arrayContaining(["RequestSubmitted", "RequestApproved", "RequestActivated"]),
    );
    const actions = (
      await harness.db.auditEvent.findMany({ where: { requestId: id }, orderBy: { seq: "asc" } })
    ).map((e) => e.action);
    expect(actions).toEqual([
      "request.submitted",
      "request.approved",
      "request.activated",
      "request.expired",
    ]);
  });

  it("removes at once on an early revoke", async () => {
    const id = await approved("bob@example.com", 3600);
    await eventually(async () => (await requestRow(id)).status === "active");
    expect(
      (await revokeRequest(deps, { requestId: id, by: person("bob@example.com"), asAdmin: false })).ok,
    ).toBe(true);
    const principal = await userIdOf("bob@example.com");
    await eventually(async () => !emulator.assignments().some((a) => a.principalId === principal));
  });

  it("times out requests nobody decided", async () => {
    const submitted = await submitRequest(deps, {
      flowName: "short",
      requester: person("carol@example.com"),
      source: "api",
    });
    expect(submitted.ok).toBe(true);
    const id = submitted.ok ? submitted.value.id : "";
    await eventually(async () => (await requestRow(id)).status === "timed_out");
  });

  it("finds a new requester's Identity Center user while the request waits, so the approval goes straight to AWS", async () => {
    const submitted = await submitRequest(deps, {
      flowName: "short",
      requester: person("bob@example.com"),
      source: "api",
    });
    expect(submitted.ok).toBe(true);
    const pinned = await eventually(async () => {
      const identity = await harness.db.identity.findUniqueOrThrow({ where: { email: "bob@example.com" } });
      return identity.identityStoreUserId ?? undefined;
    });
    expect(pinned).toMatch(/^[0-9a-f-]+$/);
    const audit = await harness.db.auditEvent.findMany({ where: { action: "identity.pinned" } });
    expect(audit.filter((e) => (e.data as { email?: string }).email === "bob@example.com")).toHaveLength(1);
  });

  it("answers health checks and exposes metrics", async () => {
    const health = await fetch(`${harness.worker.healthUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await (await fetch(`${harness.worker.healthUrl}/readyz`)).json();
    expect(ready).toMatchObject({ status: "ready", checks: { postgres: true, redis: true } });
    const metrics = await (await fetch(`${harness.worker.healthUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /keyturn_worker_jobs_total\{name="assignment.reconcile",outcome="completed"\} [1-9]/,
    );
    expect(metrics).toMatch(/keyturn_revocation_lag_seconds_count [1-9]/);
    expect(metrics).toContain("keyturn_worker_queue_depth");
  });
});
