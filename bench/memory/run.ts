// Memory: resident set (RSS) of the admin API and of the worker, idle and under load.
//
//   pnpm exec tsx bench/memory/run.ts [--requests 100000] [--clients 4] [--list-seconds 10] [--approvals 30]
//
// The API and a worker run as deployed (src/main.ts, each a process of its own, deployed worker
// settings), on a database seeded with 100,000 requests (bench/support/seed-requests.ts), with the
// AWS emulator (its own process, Identity Center's quotas on). Their RSS is read from
// /proc/<pid>/status every 100 ms, so the figure is each app's own, not this process's. Phases:
// - idle: both started and warmed up;
// - list load: `clients` concurrent callers paging GET /v1/requests (first pages, deep cursors,
//   filters) for `list-seconds`;
// - approvals and expiries: `approvals` requests created and approved through the API at once, 30 s
//   long, so the worker grants them all (under the 18 calls/s limiter) and then removes them as
//   their leases end, while the API answers the calls. Ends when every one has expired.
// DESIGN.md sets no memory target: the figures are printed with target "—".
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startEmulatorProcess } from "../../apps/worker/src/testing/emulator-process.js";
import { createPrismaClient } from "../../packages/db/src/index.js";
import { type ListCall, listChains, mintToken, runChain, startApiProcess } from "../support/api.js";
import { mib, readRss, sampleRss } from "../support/proc.js";
import { startDeployedWorker } from "../support/processes.js";
import { type BenchRow, printBenchResult, summarize } from "../support/report.js";
import { cleanUp, createScratchDatabase, onCleanUp, scratchRedisPrefix, sleep } from "../support/scratch.js";
import { SEED_ACCOUNT, seedRequests } from "../support/seed-requests.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "100000" },
    clients: { type: "string", default: "4" },
    "list-seconds": { type: "string", default: "10" },
    approvals: { type: "string", default: "30" },
  },
});
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const LIST_SECONDS = Number(values["list-seconds"]);
const APPROVALS = Number(values.approvals);
// Long enough for every grant to go through the limiter before its window ends (the window starts
// at approval), short enough that the expiries follow within the run.
const LEASE_SECONDS = 30;
const FLOW = "s3-prod-read";
const APPROVER = "approver0@example.com";

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<BenchRow[]> {
  const loadAtStart = load();
  const database = await createScratchDatabase();
  const prefix = scratchRedisPrefix("memory");
  const db = createPrismaClient({ databaseUrl: database.url, maxConnections: 4 });
  onCleanUp("prisma", () => db.$disconnect());
  const seeded = await seedRequests(db, database.url, {
    requests: REQUESTS,
    requesters: 3000,
    approvers: 20,
  });

  const emulator = await startEmulatorProcess({ quotas: true });
  onCleanUp("emulator", () => emulator.close());
  const people = Array.from({ length: APPROVALS }, (_, i) => ({
    userName: `burst${i}`,
    emails: [`burst${i}@example.com`],
  }));
  await emulator.seed({
    accounts: [SEED_ACCOUNT],
    users: people,
    permissionSets: [
      { name: "S3Access", sessionDuration: "PT1H" },
      { name: "AdministratorAccess", sessionDuration: "PT1H" },
    ],
  });

  const reader = await mintToken(db, ["requests:read"]);
  const requester = await mintToken(db, ["requests:read", "requests:on-behalf"]);
  const approver = await mintToken(db, ["requests:read", "requests:write"], {
    kind: "person",
    name: APPROVER,
  });
  const api = await startApiProcess(database.url);
  const worker = await startDeployedWorker({ databaseUrl: database.url, emulator, prefix });

  const rss = sampleRss([
    { label: "api", pid: api.pid },
    { label: "worker", pid: worker.pid },
  ]);
  onCleanUp("rss sampler", () => rss.stop());

  // Warm-up, then idle.
  for (const chain of await listChains(db, seeded, { callsPerKind: 20, seed: 7 })) {
    await runChain(api.url, reader, chain);
  }
  await sleep(1000);
  rss.phase("idle");
  await sleep(3000);

  rss.phase("list");
  const chains = await listChains(db, seeded, { callsPerKind: 2000, seed: 42 });
  const calls: ListCall[] = [];
  const listUntil = Date.now() + LIST_SECONDS * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < listUntil) {
        const chain = chains[next++ % chains.length];
        if (chain !== undefined) {
          calls.push(...(await runChain(api.url, reader, chain)));
        }
      }
    }),
  );
  const listLoad = summarize(calls.map((c) => c.ms));

  rss.phase("approvals");
  const burstStarted = Date.now();
  const post = async (path: string, token: string, body: unknown) => {
    const response = await fetch(`${api.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) {
      throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
    }
    return JSON.parse(text) as { id: string };
  };
  const ids = await Promise.all(
    people.map(async (person) => {
      const created = await post("/v1/requests", requester, {
        flow: FLOW,
        requesterEmail: person.emails[0],
        durationSeconds: LEASE_SECONDS,
        reason: "memory bench",
      });
      await post(`/v1/requests/${created.id}/approve`, approver, {});
      return created.id;
    }),
  );
  const deadline = Date.now() + 180_000;
  let expired = 0;
  while (Date.now() < deadline) {
    expired = await db.accessRequest.count({ where: { id: { in: ids }, status: "expired" } });
    const ended = await db.accessRequest.count({
      where: { id: { in: ids }, status: { in: ["expired", "failed"] } },
    });
    if (ended === ids.length) {
      break;
    }
    await sleep(500);
  }
  const burstSeconds = (Date.now() - burstStarted) / 1000;
  await rss.stop();
  const hwm = { api: await readRss(api.pid), worker: await readRss(worker.pid) };
  const statuses = await db.accessRequest.groupBy({
    by: ["status"],
    where: { id: { in: ids } },
    _count: { _all: true },
  });

  const peak = (label: string) => Math.max(rss.peak("list", label), rss.peak("approvals", label));
  console.log(
    `\nmemory: api and worker as processes (RSS from /proc every 100 ms); Node ${process.version}, ` +
      `${availableParallelism()} CPUs, load average ${loadAtStart} at start, ${load()} at end`,
  );
  for (const label of ["api", "worker"]) {
    console.log(
      `${label.padEnd(7)} idle ${mib(rss.mean("idle", label))}; list load peak ${mib(rss.peak("list", label))}; ` +
        `approvals+expiries peak ${mib(rss.peak("approvals", label))}; kernel high-water mark since start ` +
        `${mib((label === "api" ? hwm.api : hwm.worker)?.hwmBytes ?? Number.NaN)}`,
    );
  }
  console.log(
    `list load: ${calls.length} calls from ${CLIENTS} concurrent clients in ${LIST_SECONDS} s, ` +
      `p50 ${listLoad.p50.toFixed(1)} ms, p99 ${listLoad.p99.toFixed(1)} ms`,
  );
  console.log(
    `approvals: ${APPROVALS} created and approved through the API, ${LEASE_SECONDS} s leases; after ${burstSeconds.toFixed(0)} s: ` +
      statuses.map((s) => `${s.status} ${s._count._all}`).join(", "),
  );
  if (expired !== ids.length) {
    const failed = await db.accessRequest.findMany({
      where: { id: { in: ids }, status: { not: "expired" } },
      select: { status: true, failureReason: true },
    });
    console.error(failed.slice(0, 5));
    console.error(worker.output().slice(-4000));
    throw new Error(`only ${expired} of ${ids.length} requests expired within the deadline`);
  }
  return [
    {
      metric: `api RSS, peak under load (${CLIENTS} clients listing ${Math.round(seeded.requests / 1000)}k requests; ${APPROVALS} approvals)`,
      figure: `${mib(peak("api"))} (idle ${mib(rss.mean("idle", "api"))})`,
      target: "—",
      met: null,
    },
    {
      metric: `worker RSS, peak during ${APPROVALS} grants + expiries`,
      figure: `${mib(peak("worker"))} (idle ${mib(rss.mean("idle", "worker"))})`,
      target: "—",
      met: null,
    },
  ];
}

try {
  const rows = await main();
  await cleanUp();
  printBenchResult("memory", rows);
} catch (error) {
  console.error(error);
  await cleanUp();
  process.exitCode = 1;
}
