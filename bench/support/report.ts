// What every bench prints: latency summaries, and as its last stdout line the machine-readable
// result that `pnpm bench` (scripts/bench.mjs) collects into bench/RESULTS.md.

export type BenchRow = {
  metric: string;
  figure: string;
  target: string;
  /** null: the figure has no target (informational). */
  met: boolean | null;
};

export type Summary = { n: number; p50: number; p99: number; max: number };

/** Nearest-rank quantile of an ascending array (q in 0..1). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const ms = (value: number, digits = 1) => `${value.toFixed(digits)} ms`;

export function summaryLine(label: string, s: Summary, width = 24): string {
  const cell = (v: number) => v.toFixed(1).padStart(8);
  return `${label.padEnd(width)} n=${String(s.n).padStart(4)}  p50 ${cell(s.p50)} ms  p99 ${cell(s.p99)} ms  max ${cell(s.max)} ms`;
}

/** The contract with scripts/bench.mjs: one line, the last one the bench writes to stdout. */
export function printBenchResult(bench: string, rows: readonly BenchRow[]): void {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ bench, rows })}\n`);
}
