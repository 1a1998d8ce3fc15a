import type { AwsCallObserver } from "@keyturn/aws";
import { registerAwsCallMetrics } from "@keyturn/observability";
import type { SlackApiErrorObserver } from "@keyturn/slack";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

type QueueCounts = () => Promise<Record<string, number>>;
/** Per protected bucket: what usecases' sessionCutoffStatus answers. */
type CutoffStatus = () => Promise<
  Array<{
    bucket: string;
    cutoffs: number;
    prearmed: number;
    capacity: number;
    roleWide: number;
    pendingSeconds: number;
    failingSeconds: number;
  }>
>;

/**
 * The worker's Prometheus series; one registry per worker instance so tests do not share state.
 * Created by the composition root before the adapters, whose observers count into it.
 */
export function createWorkerMetrics(options: { queueCounts?: QueueCounts } = {}) {
  const registry = new Registry();
  let queueCounts = options.queueCounts;
  let cutoffStatus: CutoffStatus | undefined;
  // One database read per scrape for the five bucket gauges, not one each.
  let statusRead: { at: number; value: ReturnType<CutoffStatus> } | undefined;
  const readStatus = () => {
    if (cutoffStatus === undefined) {
      return Promise.resolve([]);
    }
    if (statusRead === undefined || Date.now() - statusRead.at > 1000) {
      statusRead = { at: Date.now(), value: cutoffStatus().catch(() => []) };
    }
    return statusRead.value;
  };
  const bucketGauge = (
    name: string,
    help: string,
    pick: (entry: Awaited<ReturnType<CutoffStatus>>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["bucket"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const entry of await readStatus()) {
          this.set({ bucket: entry.bucket }, pick(entry));
        }
      },
    });
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
    /** Where the session cut-off gauges read, when the worker manages bucket policies. */
    reportCutoffsWith(source: CutoffStatus) {
      cutoffStatus = source;
    },
    sessionCutoffs: bucketGauge(
      "keyturn_session_cutoffs",
      "Session cut-offs in force that concern the bucket (ended grants whose live sessions it refuses).",
      (entry) => entry.cutoffs,
    ),
    sessionCutoffsPrearmed: bucketGauge(
      "keyturn_session_cutoffs_prearmed",
      "Session cut-offs written ahead of their grant's end, not started yet (S3 refuses from the end by its own clock).",
      (entry) => entry.prearmed,
    ),
    sessionCutoffCapacity: bucketGauge(
      "keyturn_session_cutoff_capacity",
      "How many cut-offs of one set fit in the bucket's policy listed by user; beyond, they fold role-wide.",
      (entry) => entry.capacity,
    ),
    sessionCutoffsRoleWide: bucketGauge(
      "keyturn_session_cutoffs_role_wide",
      "Cut-offs the applied policy folded into role-wide denies (overflow: holders of those sets must sign in again).",
      (entry) => entry.roleWide,
    ),
    bucketPolicyPending: bucketGauge(
      "keyturn_bucket_policy_pending_seconds",
      "How long a change Keyturn wants in the bucket's policy (a cut-off) has waited to land; 0 when none.",
      (entry) => entry.pendingSeconds,
    ),
    bucketPolicyFailing: bucketGauge(
      "keyturn_bucket_policy_failing_seconds",
      "How long applies of the bucket's policy have been failing (S3 refusing); 0 when the last one worked.",
      (entry) => entry.failingSeconds,
    ),
    bucketPolicyApplyFailures: new Counter({
      name: "keyturn_bucket_policy_apply_failures_total",
      help: "Failed applies of a protected bucket's policy by Keyturn, by bucket and error code.",
      labelNames: ["bucket", "code"],
      registers: [registry],
    }),
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
    identityRepins: new Counter({
      name: "keyturn_identity_repins_total",
      help: "Identities whose pinned Identity Center user was gone and whose pin moved to the same person's new user (alert on any).",
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
