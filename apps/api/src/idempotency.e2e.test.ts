import { randomUUID } from "node:crypto";
import { startChildApi } from "@keyturn/testkit/child-api";
import { useTestDatabase } from "@keyturn/testkit/database";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectNoRowChanges, flowRules, problemOf, type TestApi } from "./test-support.js";

// POST /v1/requests with an Idempotency-Key: a client that retries (after a timeout, after the
// API crashed) gets the request its first call made, never a second one; the key is the calling
// token's own, and reusing it for another body is refused.

const database = useTestDatabase();
let api: TestApi;
let intake: string;

beforeAll(async () => {
  api = await createTestApi(database.url, { maxConnections: 8 });
  const admin = await api.token(["flows:admin"]);
  expect((await api.call("PUT", "/v1/flows/s3-prod", { token: admin, body: flowRules() })).statusCode).toBe(
    201,
  );
  intake = await api.token(["requests:on-behalf", "requests:read"], { service: true, name: "intake" });
});
afterAll(async () => {
  await api.close();
});

const body = (requester: string, reason = "INC-7 restore") => ({
  flow: "s3-prod",
  requesterEmail: requester,
  reason,
});

const post = (token: string, key: string, payload: Record<string, unknown>) =>
  api.call("POST", "/v1/requests", { token, body: payload, headers: { "idempotency-key": key } });

describe("Idempotency-Key on POST /v1/requests", () => {
  it("the same key and body answer with the first request, however often and however concurrently", async () => {
    const key = randomUUID();
    const first = await post(intake, key, body("rita@example.com"));
    expect(first.statusCode).toBe(201);
    const id = first.json<{ id: string }>().id;
    const again = await Promise.all(
      Array.from({ length: 10 }, () => post(intake, key, body("rita@example.com"))),
    );
    expect(again.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    expect(new Set(again.map((r) => r.json<{ id: string }>().id))).toEqual(new Set([id]));
    expect(
      await api.prisma.accessRequest.count({ where: { requester: { email: "rita@example.com" } } }),
    ).toBe(1);

    // Concurrent first calls with a fresh key: still one request.
    const fresh = randomUUID();
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => post(intake, fresh, body("sam@example.com"))),
    );
    expect(new Set(burst.map((r) => r.statusCode))).toEqual(new Set([201]));
    expect(new Set(burst.map((r) => r.json<{ id: string }>().id)).size).toBe(1);
    expect(await api.prisma.accessRequest.count({ where: { requester: { email: "sam@example.com" } } })).toBe(
      1,
    );
  });

  it("the same key with another body: 422 IDEMPOTENCY_KEY_REUSED, nothing written", async () => {
    const key = randomUUID();
    expect((await post(intake, key, body("tia@example.com"))).statusCode).toBe(201);
    await expectNoRowChanges(api, async () => {
      for (const other of [body("tia@example.com", "another reason"), body("uma@example.com")]) {
        const response = await post(intake, key, other);
        expect(response.statusCode).toBe(422);
        expect(problemOf(response).code).toBe("IDEMPOTENCY_KEY_REUSED");
      }
    });
  });

  it("keys belong to the token: another token's same key makes its own request", async () => {
    const key = randomUUID();
    const other = await api.token(["requests:on-behalf"], { service: true, name: "other-intake" });
    const mine = await post(intake, key, body("val@example.com"));
    const theirs = await post(other, key, body("val@example.com"));
    expect(mine.statusCode).toBe(201);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json<{ id: string }>().id).not.toBe(mine.json<{ id: string }>().id);
  });

  it("a malformed key is a 400 problem, nothing written", async () => {
    await expectNoRowChanges(api, async () => {
      for (const key of ["", "x".repeat(256), "has space", "ключ"]) {
        const response = await post(intake, key, body("wes@example.com"));
        expect(response.statusCode).toBe(400);
        expect(problemOf(response).code).toBe("VALIDATION_FAILED");
      }
    });
  });
});

describe("the API killed during a burst", () => {
  it("retrying every call with its key after a restart gives exactly one request per key", async () => {
    const KEYS = 60;
    const calls = Array.from({ length: KEYS }, (_, i) => ({
      key: `burst-${randomUUID()}`,
      body: body(`burst${i}@example.com`, `burst ${i}`),
    }));
    const send = (url: string, call: (typeof calls)[number]) =>
      fetch(`${url}/v1/requests`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${intake}`,
          "content-type": "application/json",
          "idempotency-key": call.key,
        },
        body: JSON.stringify(call.body),
      }).then(
        // A body cut off by the kill counts as no answer, like a refused connection.
        async (response) => {
          try {
            return { status: response.status, id: ((await response.json()) as { id?: string }).id };
          } catch {
            return { status: 0, id: undefined };
          }
        },
        () => ({ status: 0, id: undefined }),
      );

    const first = await startChildApi({ databaseUrl: database.url });
    const answered = new Map<string, string>();
    let killed = false;
    try {
      const outcomes = await Promise.all(
        calls.map(async (call, i) => {
          const outcome = await send(first.url, call);
          if (outcome.status === 201 && outcome.id !== undefined) {
            answered.set(call.key, outcome.id);
          }
          // Killed once a third of the burst has its answer, while the rest are in flight.
          if (!killed && answered.size >= KEYS / 3) {
            killed = true;
            first.kill("SIGKILL");
          }
          return { i, ...outcome };
        }),
      );
      expect(killed, first.output()).toBe(true);
      // Some calls never got an answer: they are the ones a client must retry.
      expect(outcomes.some((o) => o.status !== 201)).toBe(true);
    } finally {
      first.kill("SIGKILL");
      await first.exited;
    }

    const second = await startChildApi({ databaseUrl: database.url });
    try {
      const retried = await Promise.all(calls.map((call) => send(second.url, call)));
      expect(
        retried.map((r) => r.status),
        second.output(),
      ).toEqual(Array(KEYS).fill(201));
      calls.forEach((call, i) => {
        const before = answered.get(call.key);
        if (before !== undefined) {
          expect(retried[i]?.id).toBe(before);
        }
      });
    } finally {
      second.kill("SIGTERM");
      await second.exited;
    }
    const rows = await api.prisma.accessRequest.findMany({
      where: { requester: { email: { startsWith: "burst" } } },
      select: { idempotencyKey: true, reason: true },
    });
    expect(rows).toHaveLength(KEYS);
    expect(new Set(rows.map((r) => r.idempotencyKey)).size).toBe(KEYS);
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(calls.map((c) => c.body.reason)));
  }, 120_000);
});
