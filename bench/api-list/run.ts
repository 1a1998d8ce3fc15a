// API list latency: GET /v1/requests over 100,000 requests, target p99 < 25 ms.
//
//   pnpm exec tsx bench/api-list/run.ts [--requests 100000] [--requesters 3000] [--calls 300]
//
// A database of its own seeded with a year of requests (bench/support/seed-requests.ts: five
// flows, a few thousand requesters of whom some ask far more than others, every state, with their
// reviews, assignments and leases), the admin API as deployed (src/main.ts, a process of its own,
// info logging), and one client calling it over loopback HTTP with a real token, one call at a
// time, keep-alive. Timed: from sending each request to having read the whole body.
//
// Kinds, interleaved after a warm-up: first pages; deep pages (cursors for random positions
// across the table, then following nextCursor); and filtered lists followed for a few pages, by
// state (single and comma-separated), by flow and by requester. Prints p50/p99/max per kind and
// the overall p99 against the target.
//
// Query plans checked (EXPLAIN ANALYZE on this data): every kind is served by an index of
// AccessRequest (createdAt/id, status/createdAt/id, flowName/createdAt/id, requesterId/createdAt/id),
// a deep page included since the cursor is a row comparison on (createdAt, id) (request-queries.ts);
// the SQL itself takes well under a millisecond. The rest of a call is the API process: the token
// check and the page (one statement each), response validation, serialization and logging.
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createPrismaClient } from "../../packages/db/src/index.js";
import {
  LIST_KINDS,
  type ListCall,
  listChains,
  mintToken,
  runChain,
  startApiProcess,
} from "../support/api.js";
import { mib, readCpuMs, readRss } from "../support/proc.js";
import { type BenchRow, printBenchResult, summarize, summaryLine } from "../support/report.js";
import { cleanUp, createScratchDatabase, onCleanUp } from "../support/scratch.js";
import { seedRequests } from "../support/seed-requests.js";

const TARGET_P99_MS = 25;

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "100000" },
    requesters: { type: "string", default: "3000" },
    calls: { type: "string", default: "300" },
  },
});
const requests = Number(values.requests);
const requesters = Number(values.requesters);
const callsPerKind = Number(values.calls);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<BenchRow[]> {
  const loadAtStart = load();
  const started = Date.now();
  const database = await createScratchDatabase();
  const db = createPrismaClient({ databaseUrl: database.url, maxConnections: 4 });
  onCleanUp("prisma", () => db.$disconnect());
  const seeded = await seedRequests(db, database.url, { requests, requesters, approvers: 20 });
  console.log(
    `seeded ${seeded.requests} requests (${Object.entries(seeded.byStatus)
      .map(([status, n]) => `${status} ${n}`)
      .join(
        ", ",
      )}) from ${seeded.requesters.length} requesters in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const token = await mintToken(db, ["requests:read"]);
  const api = await startApiProcess(database.url);

  const warmUp = await listChains(db, seeded, { callsPerKind: 40, seed: 7 });
  for (const chain of warmUp) {
    await runChain(api.url, token, chain);
  }
  const chains = await listChains(db, seeded, { callsPerKind, seed: 42 });
  const calls: ListCall[] = [];
  const cpuBefore = await readCpuMs(api.pid);
  for (const chain of chains) {
    calls.push(...(await runChain(api.url, token, chain)));
  }
  const apiCpuPerCall = ((await readCpuMs(api.pid)) - cpuBefore) / calls.length;
  const rss = await readRss(api.pid);

  console.log(
    `\napi-list: ${calls.length} GET /v1/requests calls (limit 50) over ${seeded.requests} requests, one at a time; ` +
      `Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAtStart} at start, ${load()} at end`,
  );
  const rows: BenchRow[] = [];
  const byKind = new Map(
    LIST_KINDS.map((kind) => [kind, summarize(calls.filter((c) => c.kind === kind).map((c) => c.ms))]),
  );
  for (const [kind, s] of byKind) {
    console.log(summaryLine(kind, s));
    rows.push({
      metric: `GET /v1/requests ${kind}: p50 / p99`,
      figure: `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} ms (n=${s.n})`,
      target: `p99 < ${TARGET_P99_MS} ms`,
      met: s.p99 < TARGET_P99_MS,
    });
  }
  const all = summarize(calls.map((c) => c.ms));
  console.log(summaryLine("all", all));
  console.log(
    `overall p99 ${all.p99.toFixed(1)} ms (target < ${TARGET_P99_MS} ms): ${all.p99 < TARGET_P99_MS ? "MET" : "NOT MET"}; ` +
      `empty pages ${calls.filter((c) => c.items === 0).length}; api RSS at the end ${rss === undefined ? "?" : mib(rss.rssBytes)}`,
  );
  // What a call costs the API process itself, however busy the machine: a floor under its latency.
  console.log(`api process CPU time per call: ${apiCpuPerCall.toFixed(1)} ms (user + system)`);
  rows.unshift({
    metric: `GET /v1/requests over ${Math.round(seeded.requests / 1000)}k requests, all kinds: p99`,
    figure: `${all.p99.toFixed(1)} ms (p50 ${all.p50.toFixed(1)}, max ${all.max.toFixed(1)}, n=${all.n}; api CPU ${apiCpuPerCall.toFixed(1)} ms/call)`,
    target: `< ${TARGET_P99_MS} ms`,
    met: all.p99 < TARGET_P99_MS,
  });
  return rows;
}

try {
  const rows = await main();
  await cleanUp();
  printBenchResult("api-list", rows);
} catch (error) {
  console.error(error);
  await cleanUp();
  process.exitCode = 1;
}
