// Other processes as Linux sees them (/proc): resident memory from /proc/<pid>/status (VmRSS now,
// and VmHWM, the kernel's own high-water mark, which catches a peak between two samples), and CPU
// time from /proc/<pid>/stat.
import { readFile } from "node:fs/promises";

export type RssReading = { rssBytes: number; hwmBytes: number };

export async function readRss(pid: number): Promise<RssReading | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rssBytes: kb("VmRSS") * 1024, hwmBytes: kb("VmHWM") * 1024 };
  } catch {
    // The process has ended.
    return undefined;
  }
}

export type RssSampler = {
  /** Starts a named phase: peaks are kept per phase and per process. */
  phase(name: string): void;
  /** Peak sampled RSS, in bytes, of a process during a phase. */
  peak(phase: string, label: string): number;
  /** Mean sampled RSS of a process during a phase. */
  mean(phase: string, label: string): number;
  stop(): Promise<void>;
};

/** Samples every `intervalMs` the RSS of each labelled pid (several pids may share a label). */
export function sampleRss(pids: Array<{ label: string; pid: number }>, intervalMs = 100): RssSampler {
  const samples = new Map<string, number[]>();
  let current = "start";
  let running: Promise<void> = Promise.resolve();
  const take = async () => {
    const phase = current;
    for (const { label, pid } of pids) {
      const reading = await readRss(pid);
      if (reading !== undefined) {
        const key = `${phase}\u0000${label}\u0000${pid}`;
        samples.set(key, [...(samples.get(key) ?? []), reading.rssBytes]);
      }
    }
  };
  const timer = setInterval(() => {
    running = running.then(take);
  }, intervalMs);
  const of = (phase: string, label: string) =>
    [...samples.entries()]
      .filter(([key]) => key.startsWith(`${phase}\u0000${label}\u0000`))
      .map(([, v]) => v);
  return {
    phase(name) {
      running = running.then(take);
      current = name;
    },
    peak(phase, label) {
      const all = of(phase, label).flat();
      return all.length === 0 ? Number.NaN : Math.max(...all);
    },
    mean(phase, label) {
      const all = of(phase, label).flat();
      return all.length === 0 ? Number.NaN : all.reduce((a, b) => a + b, 0) / all.length;
    },
    async stop() {
      clearInterval(timer);
      await running.then(take);
    },
  };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * CPU time (user + system) a process has used so far, in ms: what its work cost, whatever else
 * competed for the CPUs meanwhile. Counted in clock ticks (10 ms here), so meant for differences
 * over many calls.
 */
export async function readCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

// sysconf(_SC_CLK_TCK): 100 on every Linux Node runs on (USER_HZ is fixed at 100 for user space).
const CLOCK_TICKS_PER_SECOND = 100;
