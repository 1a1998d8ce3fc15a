import { useTestDatabase } from "@keyturn/testkit/database";
import { activateRequest, answerCliSignIn, SIGN_IN_TTL_MS } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectNoRowChanges, flowRules, problemOf, type TestApi } from "./test-support.js";

// `keyturn login` over the API: an unauthenticated start, a poll with a secret handle, the token
// handed out once after the person approved in Slack (here: the use case the Slack click runs, the
// click itself is proven in apps/slack's cli-sign-in test), and what that token may do: its own
// person's requests only, never a review, never anyone else's request.

const database = useTestDatabase();
let api: TestApi;
let admin: string;

type Started = { id: string; code: string; handle: string; expiresAt: string; pollIntervalSeconds: number };
type View = { id: string; state: string; requester: { email: string } };

beforeAll(async () => {
  api = await createTestApi(database.url);
  admin = await api.token(["flows:admin"], { owner: "root@example.com" });
  const put = (name: string, requesters: unknown) =>
    api.call("PUT", `/v1/flows/${name}`, { token: admin, body: flowRules({ requesters } as never) });
  expect((await put("s3-prod", [{ kind: "anyone" }])).statusCode).toBe(201);
  expect((await put("rita-only", [{ kind: "email", email: "rita@example.com" }])).statusCode).toBe(201);
});
afterAll(async () => {
  await api.close();
});

const start = (body: Record<string, unknown>) => api.call("POST", "/v1/cli/sign-ins", { body });
const poll = (handle: string) => api.call("POST", "/v1/cli/sign-ins/poll", { body: { handle } });

async function startFor(email: string): Promise<Started> {
  const response = await start({ email, host: "ritas-laptop" });
  expect(response.statusCode).toBe(201);
  return response.json<Started>();
}

async function approve(signInId: string, email: string, slackUserId = "U0RITA") {
  const answered = await answerCliSignIn(api.usecases, {
    signInId,
    decision: "approve",
    by: { slackUserId, email },
  });
  expect(answered.ok).toBe(true);
}

async function signedIn(email: string): Promise<string> {
  const started = await startFor(email);
  await approve(started.id, email);
  const polled = await poll(started.handle);
  expect(polled.statusCode).toBe(200);
  return polled.json<{ token: string }>().token;
}

describe("POST /v1/cli/sign-ins and /poll", () => {
  it("needs no token, answers a code and a handle, stores only the handle's hash, queues the DM and audits", async () => {
    const started = await startFor("Rita@Example.com");
    expect(started.code).toMatch(/^[A-HJ-NP-Z]{4}-\d{4}$/);
    expect(started.handle).toMatch(/^kts_[A-Za-z0-9_-]{43}$/);
    expect(started.pollIntervalSeconds).toBeGreaterThan(0);
    const row = await api.prisma.cliSignIn.findUniqueOrThrow({ where: { id: started.id } });
    expect(row).toMatchObject({ email: "rita@example.com", host: "ritas-laptop", status: "pending" });
    expect(JSON.stringify(row)).not.toContain(started.handle);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(SIGN_IN_TTL_MS);
    const outbox = await api.prisma.outboxMessage.findMany({ where: { topic: "signin.notify" } });
    expect(outbox.map((m) => m.payload)).toContainEqual({ signInId: started.id });
    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "signin.requested" } });
    expect(JSON.stringify(audit.data)).not.toContain(started.handle);

    const pending = await poll(started.handle);
    expect(pending.statusCode).toBe(200);
    expect(pending.json()).toEqual({ status: "pending", expiresAt: started.expiresAt });
  });

  it("answers the person's token once after approval: requests:self, 12 hours, audited", async () => {
    const started = await startFor("rita@example.com");
    await approve(started.id, "rita@example.com");
    const polled = await poll(started.handle);
    expect(polled.statusCode).toBe(200);
    const body = polled.json<{ status: string; token: string; tokenInfo: Record<string, unknown> }>();
    expect(body.status).toBe("approved");
    expect(body.token).toMatch(/^kt_/);
    expect(body.tokenInfo).toMatchObject({
      ownerKind: "person",
      owner: "rita@example.com",
      scopes: ["requests:self"],
      name: "cli:ritas-laptop",
    });
    const expiresAt = Date.parse(String(body.tokenInfo.expiresAt));
    expect(expiresAt - api.clock.now().getTime()).toBe(12 * 3_600_000);

    await expectNoRowChanges(api, async () => {
      const again = await poll(started.handle);
      expect(again.statusCode).toBe(410);
      expect(problemOf(again).code).toBe("SIGN_IN_REDEEMED");
    });

    const actions = (await api.prisma.auditEvent.findMany({ select: { action: true, data: true } }))
      .filter((e) => JSON.stringify(e.data).includes(started.id) || e.action === "token.created")
      .map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["signin.requested", "signin.approved", "token.created", "signin.redeemed"]),
    );
    const everything = JSON.stringify(await api.prisma.auditEvent.findMany({ select: { data: true } }));
    expect(everything).not.toContain(body.token);
    expect(everything).not.toContain(started.handle);
  });

  it("a rejected, expired or unknown sign-in mints nothing and says why", async () => {
    const rejected = await startFor("rita@example.com");
    const answer = await answerCliSignIn(api.usecases, {
      signInId: rejected.id,
      decision: "reject",
      by: { slackUserId: "U0RITA", email: "rita@example.com" },
    });
    expect(answer.ok).toBe(true);
    const expired = await startFor("rita@example.com");
    api.clock.advance(SIGN_IN_TTL_MS + 1);
    await expectNoRowChanges(api, async () => {
      const refusedReject = await poll(rejected.handle);
      expect(refusedReject.statusCode).toBe(403);
      expect(problemOf(refusedReject).code).toBe("SIGN_IN_REJECTED");
      const refusedExpiry = await poll(expired.handle);
      expect(refusedExpiry.statusCode).toBe(410);
      expect(problemOf(refusedExpiry)).toMatchObject({ code: "SIGN_IN_EXPIRED" });
      expect(problemOf(refusedExpiry).detail).toContain("keyturn login");
      const unknown = await poll(`kts_${"A".repeat(43)}`);
      expect(unknown.statusCode).toBe(404);
      expect(problemOf(unknown).code).toBe("SIGN_IN_NOT_FOUND");
    });
    // Approving after expiry is refused too.
    const late = await answerCliSignIn(api.usecases, {
      signInId: expired.id,
      decision: "approve",
      by: { slackUserId: "U0RITA", email: "rita@example.com" },
    });
    expect(late).toMatchObject({ ok: false, error: { code: "SIGN_IN_EXPIRED" } });
  });

  it("only the person asked for can answer", async () => {
    const started = await startFor("rita@example.com");
    const answer = await answerCliSignIn(api.usecases, {
      signInId: started.id,
      decision: "approve",
      by: { slackUserId: "U0MALLORY", email: "mallory@example.com" },
    });
    expect(answer).toMatchObject({ ok: false, error: { code: "SIGN_IN_NOT_YOURS" } });
    expect((await poll(started.handle)).json()).toMatchObject({ status: "pending" });
  });

  it("refuses bad input with field errors and writes nothing", async () => {
    await expectNoRowChanges(api, async () => {
      for (const body of [
        { host: "laptop" },
        { email: "rita@example.com", slackUserId: "U0RITA", host: "laptop" },
        { email: "not-an-email", host: "laptop" },
        { email: "rita@example.com", host: "two words" },
        { slackUserId: "rita", host: "laptop" },
        { email: "rita@example.com", host: "laptop", extra: true },
      ]) {
        const response = await start(body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
        expect(problemOf(response).code).toBe("VALIDATION_FAILED");
      }
      const badHandle = await api.call("POST", "/v1/cli/sign-ins/poll", { body: { handle: "x" } });
      expect(problemOf(badHandle).code).toBe("VALIDATION_FAILED");
    });
  });

  it("is rate-limited per client address like every route (it DMs people, so it must not be a spam cannon)", async () => {
    const limited = await createTestApi(database.url, { rateLimitPerAddressPerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await limited.call("POST", "/v1/cli/sign-ins", {
          body: { email: "rita@example.com", host: "laptop" },
        });
        statuses.push(response.statusCode);
        if (response.statusCode === 429) {
          expect(problemOf(response).code).toBe("RATE_LIMITED");
          expect(response.headers["retry-after"]).toBeDefined();
        }
      }
      expect(statuses).toEqual([201, 201, 201, 429]);
    } finally {
      await limited.close();
    }
  });

  it("is in the OpenAPI document, so the CLI's client is generated from it", async () => {
    const doc = (await api.call("GET", "/docs/json")).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/cli/sign-ins", "/v1/cli/sign-ins/poll"]),
    );
  });
});

describe("a keyturn login token (requests:self) acts on its own person's requests only", () => {
  it("lists the flows its person may request, files, reads and cancels their own", async () => {
    const rita = await signedIn("rita@example.com");
    const flows = await api.call("GET", "/v1/flows", { token: rita });
    expect(flows.statusCode).toBe(200);
    expect(
      flows
        .json<{ items: { name: string }[] }>()
        .items.map((f) => f.name)
        .sort(),
    ).toEqual(["rita-only", "s3-prod"]);
    const filed = await api.call("POST", "/v1/requests", {
      token: rita,
      body: { flow: "s3-prod", reason: "INC-1 look at the data" },
    });
    expect(filed.statusCode).toBe(201);
    const view = filed.json<View>();
    expect(view.requester.email).toBe("rita@example.com");
    expect((await api.call("GET", `/v1/requests/${view.id}`, { token: rita })).statusCode).toBe(200);
    const listed = await api.call("GET", "/v1/requests", { token: rita });
    expect(
      listed.json<{ items: View[] }>().items.every((r) => r.requester.email === "rita@example.com"),
    ).toBe(true);
    const cancelled = await api.call("POST", `/v1/requests/${view.id}/cancel`, { token: rita, body: {} });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<View>().state).toBe("cancelled");
  });

  it("extends and revokes its own active access", async () => {
    const rita = await signedIn("rita@example.com");
    const ann = await api.token(["requests:write"], { owner: "ann@example.com" });
    const filed = (
      await api.call("POST", "/v1/requests", {
        token: rita,
        body: { flow: "s3-prod", reason: "INC-4 the export", durationSeconds: 1800 },
      })
    ).json<View>();
    expect(
      (await api.call("POST", `/v1/requests/${filed.id}/approve`, { token: ann, body: {} })).statusCode,
    ).toBe(200);
    // What the worker does once Identity Center holds the assignment.
    expect((await activateRequest(api.usecases, { requestId: filed.id })).ok).toBe(true);
    const extended = await api.call("POST", `/v1/requests/${filed.id}/extend`, {
      token: rita,
      body: { additionalSeconds: 600 },
    });
    expect(extended.statusCode).toBe(200);
    expect(extended.json<{ extensionCount: number }>().extensionCount).toBe(1);
    const revoked = await api.call("POST", `/v1/requests/${filed.id}/revoke`, {
      token: rita,
      body: { reason: "done" },
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json<View>().state).toBe("revoked");
  });

  it("cannot see, touch or approve anyone else's request, nor file for them", async () => {
    const rita = await signedIn("rita@example.com");
    const sam = await signedIn("sam@example.com");
    expect(
      (await api.call("GET", "/v1/flows", { token: sam }))
        .json<{ items: { name: string }[] }>()
        .items.map((f) => f.name),
    ).toEqual(["s3-prod"]);
    const samsRequest = (
      await api.call("POST", "/v1/requests", { token: sam, body: { flow: "s3-prod", reason: "INC-2 check" } })
    ).json<View>();
    await expectNoRowChanges(api, async () => {
      const read = await api.call("GET", `/v1/requests/${samsRequest.id}`, { token: rita });
      expect(read.statusCode).toBe(404);
      expect(problemOf(read).code).toBe("REQUEST_NOT_FOUND");
      const listed = await api.call("GET", "/v1/requests?requester=sam@example.com", { token: rita });
      expect(listed.statusCode).toBe(403);
      const mine = await api.call("GET", "/v1/requests", { token: rita });
      expect(JSON.stringify(mine.json())).not.toContain(samsRequest.id);
      for (const action of ["cancel", "revoke", "extend"]) {
        const touched = await api.call("POST", `/v1/requests/${samsRequest.id}/${action}`, {
          token: rita,
          body: action === "extend" ? { additionalSeconds: 600 } : {},
        });
        expect(touched.statusCode, action).toBe(404);
      }
      for (const action of ["approve", "deny"]) {
        const reviewed = await api.call("POST", `/v1/requests/${samsRequest.id}/${action}`, {
          token: rita,
          body: {},
        });
        expect(reviewed.statusCode, action).toBe(403);
        expect(problemOf(reviewed).code).toBe("INSUFFICIENT_SCOPE");
      }
      // Not even their own request: a CLI token never reviews.
      const own = await api.call("POST", `/v1/requests/${samsRequest.id}/approve`, { token: sam, body: {} });
      expect(problemOf(own).code).toBe("INSUFFICIENT_SCOPE");
      const forSam = await api.call("POST", "/v1/requests", {
        token: rita,
        body: { flow: "s3-prod", reason: "INC-3", requesterEmail: "sam@example.com" },
      });
      expect(forSam.statusCode).toBe(403);
      const minted = await api.call("POST", "/v1/tokens", {
        token: rita,
        body: { name: "x", ownerKind: "person", owner: "rita@example.com", scopes: ["requests:read"] },
      });
      expect(minted.statusCode).toBe(403);
    });
  });

  it("revokes itself (keyturn logout), and then stops working", async () => {
    const rita = await signedIn("rita@example.com");
    const prefix = rita.split("_").slice(0, 2).join("_");
    const me = await api.prisma.apiToken.findUniqueOrThrow({ where: { prefix } });
    const revoked = await api.call("DELETE", `/v1/tokens/${me.id}`, { token: rita });
    expect(revoked.statusCode).toBe(200);
    const after = await api.call("GET", "/v1/requests", { token: rita });
    expect(after.statusCode).toBe(401);
  });
});
