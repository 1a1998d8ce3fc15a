// Shared by the API's e2e tests: a real app on a real (per-file) database, tokens with chosen
// scopes, and row counts of every table to prove that a rejected call changed nothing.
import { randomUUID } from "node:crypto";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import type { AwsCallObserver } from "@keyturn/aws";
import type { FlowRules } from "@keyturn/core";
import { createPrismaClient, createUnitOfWork, type PrismaClient } from "@keyturn/db";
import { createLogger } from "@keyturn/observability";
import { testFlowRules } from "@keyturn/testkit";
import {
  type ApiScope,
  type BucketPolicyStore,
  createApiToken,
  type Deps,
  type Integrations,
  type KeyturnIdentity,
  revokeApiToken,
} from "@keyturn/usecases";
import type { ConnectionOptions } from "bullmq";
import type { LightMyRequestResponse } from "fastify";
import { expect, it } from "vitest";
import { buildApp } from "./app.js";
import { type ApiMetrics, createApiMetrics } from "./plugins/metrics.js";
import type { App } from "./route-context.js";

type TestClock = { now(): Date; advance(ms: number): void };

function createTestClock(start = Date.now()): TestClock {
  let current = start;
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
  };
}

type Call = {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
};

export type TestApi = {
  app: App;
  prisma: PrismaClient;
  clock: TestClock;
  usecases: Deps;
  /** The registry the app's /metrics serves. */
  metrics: ApiMetrics;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  /** Mints a token straight through the use case (as the CLI does). */
  token(
    scopes: readonly ApiScope[],
    options?: { owner?: string; service?: boolean; name?: string; expiresAt?: Date },
  ): Promise<string>;
  revokedToken(scopes: readonly ApiScope[]): Promise<string>;
  call(method: "GET" | "POST" | "PUT" | "DELETE", url: string, call?: Call): Promise<LightMyRequestResponse>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
};

/**
 * Test files run in parallel against one PostgreSQL (max_connections is often 100), so each app
 * keeps a small pool unless a test needs real concurrency.
 */
export async function createTestApi(
  databaseUrl: string,
  options: {
    maxConnections?: number;
    rateLimitPerMinute?: number;
    rateLimitPerAddressPerMinute?: number;
    trustedProxies?: string[];
    /** A store, or one built with the app's AWS call observer (as main.ts wires it). */
    bucketPolicies?: BucketPolicyStore | ((onCall: AwsCallObserver) => BucketPolicyStore);
    /** Serve the queue dashboard on this Redis connection and key prefix. */
    queues?: { connection: ConnectionOptions; prefix: string };
    /** Keyturn's own principal (lock-out checks on bucket specs); default: not known. */
    keyturn?: KeyturnIdentity;
    /** On-call and ticket providers; default: none configured. */
    integrations?: Integrations;
    /** The ticket webhooks' signing secrets; default: none (their routes answer 404). */
    webhookSecrets?: { jira?: string; linear?: string };
  } = {},
): Promise<TestApi> {
  const prisma = createPrismaClient({ databaseUrl, maxConnections: options.maxConnections ?? 4 });
  const clock = createTestClock();
  const ids = { uuid: () => randomUUID() };
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = createLogger({ name: "keyturn-api-test", level: "info", destination });
  const metrics = createApiMetrics(prisma);
  const bucketPolicies =
    typeof options.bucketPolicies === "function"
      ? options.bucketPolicies(metrics.observeAwsCall)
      : options.bucketPolicies;
  const app = await buildApp({
    prisma,
    logger,
    clock,
    ids,
    config: {
      host: "127.0.0.1",
      port: 0,
      bodyLimitBytes: 64 * 1024,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 6000,
      rateLimitPerAddressPerMinute: options.rateLimitPerAddressPerMinute ?? 60_000,
      trustedProxies: options.trustedProxies ?? [],
    },
    metrics,
    ...(bucketPolicies === undefined ? {} : { bucketPolicies }),
    ...(options.queues === undefined ? {} : { queues: options.queues }),
    ...(options.keyturn === undefined ? {} : { keyturn: options.keyturn }),
    ...(options.integrations === undefined ? {} : { integrations: options.integrations }),
    ...(options.webhookSecrets === undefined ? {} : { webhookSecrets: options.webhookSecrets }),
  });
  await app.ready();
  const usecases: Deps = {
    uow: createUnitOfWork(prisma, { clock, ids }),
    clock,
    ids,
    ...(options.integrations === undefined ? {} : { integrations: options.integrations }),
  };
  const system = { type: "system", id: "test" } as const;

  const token: TestApi["token"] = async (scopes, options = {}) => {
    const result = await createApiToken(usecases, {
      name: options.name ?? `test-${scopes.join("+") || "none"}`,
      ownerKind: options.service === true ? "service" : "person",
      owner: options.owner ?? (options.service === true ? "ci-bot" : "admin@example.com"),
      scopes,
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
      by: system,
    });
    if (!result.ok) {
      throw new Error(`could not mint a test token: ${result.error.message}`);
    }
    return result.value.token;
  };

  return {
    app,
    prisma,
    clock,
    usecases,
    metrics,
    logs,
    token,
    async revokedToken(scopes) {
      const result = await createApiToken(usecases, {
        name: "revoked",
        ownerKind: "person",
        owner: "revoked@example.com",
        scopes,
        by: system,
      });
      if (!result.ok) {
        throw new Error(result.error.message);
      }
      const revoked = await revokeApiToken(usecases, { id: result.value.record.id, by: system });
      expect(revoked.ok).toBe(true);
      return result.value.token;
    },
    call(method, url, { token: bearer, body, headers = {} } = {}) {
      return app.inject({
        method,
        url,
        headers: { ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), ...headers },
        ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
      });
    },
    counts: () => countRows(prisma),
    async close() {
      await app.close();
      await prisma.$disconnect();
    },
  };
}

/** Row counts of every table of the schema (found at run time, so a new table is covered too). */
async function countRows(prisma: PrismaClient): Promise<Record<string, number>> {
  const tables = await prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name::text AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
    ORDER BY table_name`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const rows = await prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`,
    );
    counts[name] = Number(rows[0]?.n ?? -1);
  }
  return counts;
}

/** Runs `act` and asserts that no table gained or lost a row. */
export async function expectNoRowChanges(api: TestApi, act: () => Promise<unknown>): Promise<void> {
  const before = await api.counts();
  expect(Object.keys(before)).toEqual(
    expect.arrayContaining(["AccessRequest", "AuditEvent", "Identity", "OutboxMessage", "Lease", "ApiToken"]),
  );
  await act();
  expect(await api.counts()).toEqual(before);
}

/** The problem body of a response, checked for the envelope every error must have. */
export function problemOf(response: LightMyRequestResponse): {
  code: string;
  detail: string;
  status: number;
  requestId: string;
  errors?: { path: string; message: string }[];
} {
  expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({
    type: expect.stringMatching(/^https:\/\/keyturn\.dev\/problems\/[a-z0-9-]+$/),
    title: expect.any(String),
    status: response.statusCode,
    detail: expect.any(String),
    code: expect.stringMatching(/^[A-Z0-9_]+$/),
    requestId: expect.any(String),
  });
  return body as ReturnType<typeof problemOf>;
}

export function flowRules(overrides: Partial<FlowRules> = {}): FlowRules {
  return testFlowRules({
    title: "S3 data, production",
    approvers: [
      { kind: "email", email: "ann@example.com" },
      { kind: "email", email: "ben@example.com" },
    ],
    reason: { required: true },
    pendingTimeoutSeconds: 600,
    extensions: { maxCount: 2, maxExtensionSeconds: 1800, requiresApproval: false },
    ...overrides,
  });
}

/** One endpoint, as the shared auth tests exercise it. */
export type Endpoint = {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  /** The scopes that admit a caller; the test uses a token holding none of them. */
  scopes: readonly ApiScope[];
  body?: unknown;
};

export const ALL_SCOPES: readonly ApiScope[] = [
  "requests:read",
  "requests:write",
  "flows:admin",
  "audit:read",
  "tokens:admin",
];

/**
 * The auth contract every /v1 endpoint must keep, with proof that each refusal wrote nothing:
 * 401 without a token and with a revoked one, 403 with a token that lacks the route's scopes.
 */
export function itEnforcesAuth(api: () => TestApi, endpoints: readonly Endpoint[]): void {
  for (const endpoint of endpoints) {
    const name = `${endpoint.method} ${endpoint.url}`;
    const send = (token?: string) =>
      api().call(endpoint.method, endpoint.url, {
        ...(token === undefined ? {} : { token }),
        ...(endpoint.body === undefined ? {} : { body: endpoint.body }),
      });

    it(`${name}: 401 without a token, nothing written`, async () => {
      await expectNoRowChanges(api(), async () => {
        const response = await send();
        expect(response.statusCode).toBe(401);
        expect(response.headers["www-authenticate"]).toMatch(/^Bearer/);
        expect(problemOf(response).code).toBe("UNAUTHENTICATED");
      });
    });

    it(`${name}: 401 with a revoked token, nothing written`, async () => {
      const revoked = await api().revokedToken(ALL_SCOPES);
      await expectNoRowChanges(api(), async () => {
        const response = await send(revoked);
        expect(response.statusCode).toBe(401);
        expect(response.headers["www-authenticate"]).toMatch(/^Bearer.*invalid_token/);
        expect(problemOf(response).code).toBe("UNAUTHENTICATED");
      });
    });

    it(`${name}: 403 naming the scope with a token that lacks it, nothing written`, async () => {
      const others = ALL_SCOPES.filter((s) => !endpoint.scopes.includes(s));
      const token = await api().token(others);
      await expectNoRowChanges(api(), async () => {
        const response = await send(token);
        expect(response.statusCode).toBe(403);
        const problem = problemOf(response);
        expect(problem.code).toBe("INSUFFICIENT_SCOPE");
        for (const scope of endpoint.scopes) {
          expect(problem.detail).toContain(scope);
        }
      });
    });
  }
}

/**
 * A TCP relay in front of PostgreSQL that counts the bytes the API sends it: proof of whether a
 * request cost a database round trip, without looking inside the API.
 */
export async function startCountingProxy(databaseUrl: string): Promise<{
  url: string;
  bytesToDatabase(): number;
  close(): Promise<void>;
}> {
  const target = new URL(databaseUrl);
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as AddressInfo).port);
  return {
    url: proxied.toString(),
    bytesToDatabase: () => bytes,
    async close() {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * An admin holding every scope (ann, an approver of the flow) and a pending request of rita's on
 * flow s3-prod: the ground the input tests start from.
 */
export async function adminWithPendingRequest(api: TestApi): Promise<{ admin: string; requestId: string }> {
  const admin = await api.token([...ALL_SCOPES, "requests:on-behalf"], { owner: "ann@example.com" });
  const flow = await api.call("PUT", "/v1/flows/s3-prod", { token: admin, body: flowRules() });
  expect(flow.statusCode).toBe(201);
  const created = await api.call("POST", "/v1/requests", {
    token: admin,
    body: { flow: "s3-prod", requesterEmail: "rita@example.com", reason: "INC-1" },
  });
  expect(created.statusCode).toBe(201);
  return { admin, requestId: created.json<{ id: string }>().id };
}
