import type { AwsCallObserver } from "@keyturn/aws";
import { registerAwsCallMetrics } from "@keyturn/observability";
import type { SlackApiErrorObserver } from "@keyturn/slack";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

type QueueCounts = () => Promise<Record<string, number>>;

/**
 * The worker's Prometheus series; one registry per worker instance so tests do not share state.
 * Created by the composition root before the adapters, whose observers count into it.
 */
export function createWorkerMetrics(options: { queueCounts?: QueueCounts } = {}) {
  const registry = new Registry();
  let queueCounts = options.queueCounts;
  // keyturn_slack_api_errors_total has the same name and labels in the Slack app, so one query
  // covers both.
  const aws = registerAwsCallMetrics(registry);
  const slackApiErrors = new Counter({
    name: "keyturn_slack_api_errors_total",
    help: "Failed Slack Web API calls by method and Slack's error string.",
    labelNames: ["method", "error"],
    registers: [registry],
  });
  const observeAwsCall: AwsCallObserver = aws.observe;
  const observeSlackApiError: SlackApiErrorObserver = ({ method, error }) => {
    slackApiErrors.inc({ method, error });
  };
  return {
    registry,
    /** Where the queue-depth gauge reads its counts, once the queue exists. */
    countQueueWith(source: QueueCounts) {
      queueCounts = source;
    },
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
        const counts = (await queueCounts?.()) ?? {};
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
    revocationBackstop: new Counter({
      name: "keyturn_revocation_backstop_total",
      help: "Overdue removals the worker reconciled directly, outside the job queue (paused, emptied or far behind).",
      registers: [registry],
    }),
    outboxRelayed: new Counter({
      name: "keyturn_outbox_relayed_total",
      help: "Outbox messages turned into jobs.",
      registers: [registry],
    }),
    awsCalls: aws.calls,
    awsCallDuration: aws.duration,
    slackApiErrors,
    /** For the AWS adapters' `onCall`. */
    observeAwsCall,
    /** For the Slack Web API client's `onApiError`. */
    observeSlackApiError,
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
