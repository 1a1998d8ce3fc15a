// `pnpm bench`: runs every benchmark under bench/ in turn, each a child process whose output is
// streamed, collects the result each one prints as its last stdout line
// (`BENCH_RESULT {"bench": ..., "rows": [{"metric", "figure", "target", "met"}]}`), prints one
// table and writes it to bench/RESULTS.md with the machine it ran on.
//
//   pnpm bench                         every bench; writes bench/RESULTS.md
//   pnpm bench -- --only api-list,memory   those only; prints the table, leaves RESULTS.md alone
//
// A bench that exits non-zero, prints no result or overruns its time limit is reported as failed in
// the table; the others still run, and the command exits non-zero at the end.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("../", import.meta.url));
const resultsFile = fileURLToPath(new URL("../bench/RESULTS.md", import.meta.url));

/** In order; each limit leaves the whole run under 10 minutes on a small machine. */
const BENCHES = [
  { name: "slack-ack", args: [], limitS: 150 },
  { name: "approval-latency", args: [], limitS: 150 },
  { name: "api-list", args: [], limitS: 120 },
  { name: "memory", args: [], limitS: 180 },
  { name: "revocation-lag", args: ["--k", "100,1000"], limitS: 420 },
  { name: "session-cutoff", args: ["--k", "300"], limitS: 420 },
  { name: "rate-limiter", args: [], limitS: 90 },
  { name: "credential-process", args: [], limitS: 120 },
];

// `pnpm bench -- --only x` may pass the "--" along.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: { only: { type: "string" } },
});
const only = values.only?.split(",").map((name) => name.trim());
const unknown = only?.filter((name) => !BENCHES.some((bench) => bench.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown bench(es): ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`);
  process.exit(2);
}
const selected = BENCHES.filter((bench) => only === undefined || only.includes(bench.name));

let current;
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    // Ctrl-C reaches the child too (same process group); a SIGTERM sent to us alone is passed on.
    // Either way the child cleans up, and no further bench starts.
    interrupted = true;
    if (signal === "SIGTERM") {
      current?.kill("SIGTERM");
    }
  });
}

/** Runs one bench, streaming its output, and resolves with its exit and its BENCH_RESULT. */
function run(bench) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", `bench/${bench.name}/run.ts`, ...bench.args], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    current = child;
    let result;
    let lastLine = "";
    let rest = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines.filter((l) => l.trim() !== "")) {
        lastLine = line;
        if (line.startsWith("BENCH_RESULT ")) {
          try {
            result = JSON.parse(line.slice("BENCH_RESULT ".length));
          } catch {
            result = undefined;
          }
        }
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n[bench] ${bench.name} overran its ${bench.limitS} s: stopping it`);
      child.kill("SIGINT");
      setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
    }, bench.limitS * 1000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      if (rest.trim() !== "") {
        lastLine = rest;
      }
      // The contract: the result is the last line the bench wrote to stdout.
      const last = lastLine.startsWith("BENCH_RESULT ") ? result : undefined;
      resolve({ bench, code, signal, timedOut, result: last, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function why(outcome) {
  if (outcome.timedOut) {
    return `failed: overran ${outcome.bench.limitS} s`;
  }
  if (outcome.code !== 0) {
    return `failed: exit ${outcome.code ?? outcome.signal}`;
  }
  return "no result";
}

function rowsOf(outcome) {
  const ok = outcome.code === 0 && !outcome.timedOut && outcome.result !== undefined;
  if (!ok) {
    return [{ bench: outcome.bench.name, metric: why(outcome), figure: "—", target: "—", met: "FAILED" }];
  }
  const met = (value) => (value === true ? "yes" : value === false ? "NO" : "—");
  return outcome.result.rows.map((row) => ({
    bench: outcome.bench.name,
    metric: String(row.metric),
    figure: String(row.figure),
    target: String(row.target),
    met: met(row.met),
  }));
}

const COLUMNS = ["bench", "metric", "figure", "target", "met"];

function textTable(rows) {
  const widths = COLUMNS.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [
    line(COLUMNS),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(COLUMNS.map((c) => r[c]))),
  ].join("\n");
}

function markdownTable(rows) {
  const escaped = (cell) => cell.replaceAll("|", "\\|");
  const cells = rows.map((r) => COLUMNS.map((c) => escaped(r[c])));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, 3, ...cells.map((r) => r[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(" | ")} |`;
  return [line(COLUMNS), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

function osName() {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
    if (pretty !== undefined) {
      return `${pretty} (${os.type()} ${os.release()}, ${os.arch()})`;
    }
  } catch {
    // Not Linux: os.type() says enough.
  }
  return `${os.type()} ${os.release()} (${os.arch()})`;
}

function serviceVersions() {
  try {
    const out = execFileSync(process.execPath, ["--import", "tsx", "bench/support/versions.ts"], {
      cwd: root,
      encoding: "utf8",
      timeout: 30_000,
    });
    return JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  } catch (error) {
    return { postgres: `unknown (${error.message})`, redis: "unknown" };
  }
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const startedAt = new Date();
const loadAtStart = load();
const outcomes = [];
for (const bench of selected) {
  if (interrupted) {
    break;
  }
  console.log(`\n[bench] ${bench.name} ${bench.args.join(" ")}`.trimEnd());
  const outcome = await run(bench);
  outcomes.push(outcome);
  console.log(
    `[bench] ${bench.name}: ${outcome.seconds.toFixed(0)} s, ${rowsOf(outcome)[0]?.met === "FAILED" ? why(outcome) : "done"}`,
  );
}
const totalSeconds = (Date.now() - startedAt.getTime()) / 1000;
const rows = outcomes.flatMap(rowsOf);
const failed = outcomes.filter((o) => rowsOf(o)[0]?.met === "FAILED").map((o) => o.bench.name);

console.log(`\n${textTable(rows)}\n`);
console.log(
  `total ${(totalSeconds / 60).toFixed(1)} min (${totalSeconds.toFixed(0)} s)` +
    (failed.length > 0 ? `; failed: ${failed.join(", ")}` : "") +
    (interrupted ? "; interrupted" : ""),
);

if (only === undefined && !interrupted) {
  const cpus = os.cpus();
  const versions = serviceVersions();
  const machine = [
    `- Date: ${startedAt.toISOString()}`,
    `- CPU: ${cpus.length} x ${cpus[0]?.model.trim() ?? "unknown"}`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${osName()}`,
    `- Node.js: ${process.version}`,
    `- ${versions.postgres}`,
    `- ${versions.redis}`,
    `- Load average (1, 5, 15 min): ${loadAtStart} at the start, ${load()} at the end`,
    `- Total time: ${(totalSeconds / 60).toFixed(1)} min`,
  ];
  const document = [
    "# Benchmark results",
    "",
    "Written by `pnpm bench` (scripts/bench.mjs) from the last run; do not edit by hand. Targets are",
    'those of DESIGN.md, "Performance targets"; "—" means no target (the figure is informational).',
    "Each bench's own output explains its method (see the header of `bench/<name>/run.ts`).",
    "",
    markdownTable(rows),
    "",
    "## Machine",
    "",
    ...machine,
    "",
    "The machine was shared: other work (test runs of other agents, their databases) ran at the same time",
    "on the same CPUs, PostgreSQL and Redis, so latency figures are noisier and higher than on a",
    "dedicated machine; the load average above shows how busy it was.",
    "",
  ].join("\n");
  writeFileSync(resultsFile, document);
  try {
    // The repository's formatter owns Markdown layout (table padding): keep the file as it wants it.
    execFileSync(
      process.execPath,
      ["node_modules/@biomejs/biome/bin/biome", "format", "--write", resultsFile],
      {
        cwd: root,
        stdio: "ignore",
      },
    );
  } catch {
    // Formatting is cosmetic; the results are written either way.
  }
  console.log(`written to bench/RESULTS.md`);
}
process.exitCode = interrupted ? 130 : failed.length > 0 ? 1 : 0;
