import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The worker's Prometheus series; one registry per worker instance so tests do not share state. */
export function createWorkerMetrics(options: { queueCounts?: () => Promise<Record<string, number>> } = {}) {
  const registry = new Registry();
  return {
    registry,
    jobs: new Counter({
      name: "keyturn_worker_jobs_total",
      help: "Job attempts by job name and outcome (completed, retried, failed).",
      labelNames: ["name", "outcome"],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "keyturn_worker_job_duration_seconds",
      help: "Duration of one job attempt.",
      labelNames: ["name"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "keyturn_worker_queue_depth",
      help: "Jobs in the queue by state.",
      labelNames: ["state"],
      registers: [registry],
      // Read when Prometheus scrapes, not on a timer.
      async collect() {
        const counts = (await options.queueCounts?.()) ?? {};
        for (const [state, count] of Object.entries(counts)) {
          this.set({ state }, count);
        }
      },
    }),
    revocationLag: new Histogram({
      name: "keyturn_revocation_lag_seconds",
      help: "From a lease's end (expiry or revoke) to its assignment being gone in AWS.",
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
    outboxRelayed: new Counter({
      name: "keyturn_outbox_relayed_total",
      help: "Outbox messages turned into jobs.",
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
