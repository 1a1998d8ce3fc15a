// The admin API as deployed (apps/api/src/main.ts in a process of its own), a token to call it
// with, and the request-list traffic the api-list and memory benches send it.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createUnitOfWork, encodeCursor, type PrismaClient } from "../../packages/db/src/index.js";
import { type ApiScope, createApiToken } from "../../packages/usecases/src/index.js";
import { fastifyPort, type RunningApp, startAppProcess } from "./processes.js";
import type { SeededRequests } from "./seed-requests.js";

const apiMain = fileURLToPath(new URL("../../apps/api/src/main.ts", import.meta.url));

export async function startApiProcess(databaseUrl: string): Promise<RunningApp & { url: string }> {
  const app = await startAppProcess({
    name: "api",
    entry: apiMain,
    env: {
      DATABASE_URL: databaseUrl,
      API_HOST: "127.0.0.1",
      API_PORT: "0",
      // The bench is one caller sending thousands of calls a minute; the limiter is not measured.
      API_RATE_LIMIT_PER_MINUTE: "10000000",
      API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: "10000000",
      // As deployed: info (a line per request), JSON.
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    portOf: fastifyPort,
  });
  return { ...app, url: `http://127.0.0.1:${app.port}` };
}

/** Minted through the use case, as `pnpm --filter @keyturn/api run token:create` does. */
export async function mintToken(
  db: PrismaClient,
  scopes: readonly ApiScope[],
  owner: { kind: "person" | "service"; name: string } = { kind: "service", name: "bench" },
): Promise<string> {
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const minted = await createApiToken(
    { uow: createUnitOfWork(db, { clock, ids }), clock, ids },
    {
      name: `bench-${randomUUID().slice(0, 8)}`,
      ownerKind: owner.kind,
      owner: owner.name,
      scopes,
      by: { type: "system", id: "bench" },
    },
  );
  if (!minted.ok) {
    throw new Error(minted.error.message);
  }
  return minted.value.token;
}

export type ListKind = "first page" | "deep cursor" | "by state" | "by flow" | "by requester";
export const LIST_KINDS: readonly ListKind[] = [
  "first page",
  "deep cursor",
  "by state",
  "by flow",
  "by requester",
];

/** One chain of calls: a first URL, then as many of its next pages as `pages` says. */
export type ListChain = { kind: ListKind; path: string; pages: number };

export type ListCall = { kind: ListKind; ms: number; status: number; items: number };

/** A fixed pseudo-random sequence (a small LCG), so that runs ask for the same pages. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const STATE_FILTERS = ["pending", "active", "expired", "denied", "pending,approved,active", "revoked,failed"];

/**
 * Chains of every kind, interleaved, so that a noisy moment on the shared machine does not land on
 * one kind only. Deep chains start at cursors for random positions across the whole table (the
 * cursor the API would have issued there) and follow nextCursor from there.
 */
export async function listChains(
  db: PrismaClient,
  seeded: SeededRequests,
  input: { callsPerKind: number; seed: number },
): Promise<ListChain[]> {
  const random = lcg(input.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chains: ListChain[] = [];
  const chainsOf = (pagesPerChain: number) => Math.ceil(input.callsPerKind / pagesPerChain);
  const firstPages: ListChain[] = Array.from({ length: input.callsPerKind }, () => ({
    kind: "first page",
    path: "/v1/requests",
    pages: 1,
  }));
  const deep: ListChain[] = [];
  for (let i = 0; i < chainsOf(10); i++) {
    const offset = Math.floor(random() * (seeded.requests - 600));
    const [row] = await db.accessRequest.findMany({
      select: { createdAt: true, id: true },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: offset,
      take: 1,
    });
    if (row === undefined) {
      throw new Error(`no request at offset ${offset}`);
    }
    deep.push({ kind: "deep cursor", path: `/v1/requests?cursor=${encodeCursor(row)}`, pages: 10 });
  }
  const byState: ListChain[] = Array.from({ length: chainsOf(3) }, () => ({
    kind: "by state",
    path: `/v1/requests?state=${pick(STATE_FILTERS)}`,
    pages: 3,
  }));
  const byFlow: ListChain[] = Array.from({ length: chainsOf(3) }, () => ({
    kind: "by flow",
    path: `/v1/requests?flow=${pick(seeded.flows)}`,
    pages: 3,
  }));
  // Half from the busiest tenth of the people, half from anyone.
  const busiest = seeded.requesters.slice(0, Math.ceil(seeded.requesters.length / 10));
  const byRequester: ListChain[] = Array.from({ length: chainsOf(2) }, (_, i) => ({
    kind: "by requester",
    path: `/v1/requests?requester=${encodeURIComponent(pick(i % 2 === 0 ? busiest : seeded.requesters))}`,
    pages: 2,
  }));
  const queues = [firstPages, deep, byState, byFlow, byRequester];
  while (queues.some((q) => q.length > 0)) {
    for (const queue of queues) {
      const next = queue.shift();
      if (next !== undefined) {
        chains.push(next);
      }
    }
  }
  return chains;
}

/** Runs one chain over HTTP: each page timed from sending the request to having read the body. */
export async function runChain(baseUrl: string, token: string, chain: ListChain): Promise<ListCall[]> {
  const calls: ListCall[] = [];
  let path: string | undefined = chain.path;
  for (let page = 0; page < chain.pages && path !== undefined; page++) {
    const started = performance.now();
    const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    const elapsed = performance.now() - started;
    if (response.status !== 200) {
      throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
    }
    const body = JSON.parse(text) as { items: unknown[]; nextCursor: string | null };
    calls.push({ kind: chain.kind, ms: elapsed, status: response.status, items: body.items.length });
    path = body.nextCursor === null ? undefined : withCursor(chain.path, body.nextCursor);
  }
  return calls;
}

function withCursor(path: string, cursor: string): string {
  const url = new URL(path, "http://x");
  url.searchParams.set("cursor", cursor);
  return `${url.pathname}${url.search}`;
}
