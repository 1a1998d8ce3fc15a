import { AppError } from "@keyturn/usecases";
import type { KeepJobs } from "bullmq";
import { z } from "zod";

/**
 * The job catalog: for every job name its payload schema, retry policy, priority and queue. The
 * producer and the worker both read it, so a job's contract lives in exactly one place.
 *
 * Payload schemas are strict objects of ids and small enumerations: an unknown key is refused, so a
 * token or secret cannot ride along in a payload (DESIGN.md invariant 8), and a payload never
 * carries state that could be stale by the time the job runs; handlers load what they need.
 */

export const JOB_NAMES = [
  "assignment.reconcile",
  "identity.resolve",
  "request.notify",
  "request.time-out",
  "sweep.leases",
  "sweep.drift",
  "cutoff.arm",
  "bucket.apply",
  "request.on-call-check",
  "sweep.tickets",
  "signin.notify",
] as const;
export type JobName = (typeof JOB_NAMES)[number];

/**
 * One queue for every job. Ordering across job kinds matters (a removal must not wait behind a
 * burst of grants or notifications), and BullMQ only orders by priority within one queue; one queue
 * also means one worker loop and one concurrency knob per process. The `queue` field is kept per
 * entry so a job can move to a queue of its own without touching producer or worker code.
 */
export const QUEUE_NAMES = ["keyturn"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const RECONCILE_CAUSES = [
  "approved",
  "lease_end",
  "expired",
  "released",
  "sweep",
  "extended",
] as const;
export type ReconcileCause = (typeof RECONCILE_CAUSES)[number];

/** Causes after which the reconciler normally deletes an assignment. */
export const REMOVAL_CAUSES: ReadonlySet<ReconcileCause> = new Set(["lease_end", "expired", "released"]);

export const AssignmentReconcilePayloadSchema = z.strictObject({
  assignmentId: z.uuid(),
  requestId: z.uuid().optional(),
  cause: z.enum(RECONCILE_CAUSES),
});

export const RequestNotifyPayloadSchema = z.strictObject({
  requestId: z.uuid(),
  // A domain event type such as "RequestApproved": an identifier, never free text.
  event: z
    .string()
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/),
  auditEventId: z.uuid(),
});

export const IdentityResolvePayloadSchema = z.strictObject({ identityId: z.uuid() });

export const RequestTimeOutPayloadSchema = z.strictObject({ requestId: z.uuid() });

export const SweepLeasesPayloadSchema = z.strictObject({});

export const SweepDriftPayloadSchema = z.strictObject({});

/** Arms the session cut-offs of every lease ended by the time it runs (coalesced per instant). */
const CutoffArmPayloadSchema = z.strictObject({});

/** Applies a protected bucket's policy (its spec and the cut-offs in force). */
const BucketApplyPayloadSchema = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
});

/** Asks the on-call provider about a pending request's requester (after submission, once). */
const RequestOnCallCheckPayloadSchema = z.strictObject({ requestId: z.uuid() });

/** Looks up every ticket an open access is bound to; a closed one ends that access. */
const SweepTicketsPayloadSchema = z.strictObject({});

/** Asks a person in Slack whether a `keyturn login` is theirs. */
const SignInNotifyPayloadSchema = z.strictObject({ signInId: z.uuid() });

/** The BullMQ options a job kind is enqueued with; see `defaultJobOptions` below for the reasons. */
export type JobOptions = {
  attempts: number;
  backoff: { type: "exponential"; delay: number; jitter: number };
  removeOnComplete: KeepJobs;
  removeOnFail: KeepJobs;
};

const jobSchemas = {
  "assignment.reconcile": AssignmentReconcilePayloadSchema,
  "identity.resolve": IdentityResolvePayloadSchema,
  "request.notify": RequestNotifyPayloadSchema,
  "request.time-out": RequestTimeOutPayloadSchema,
  "sweep.leases": SweepLeasesPayloadSchema,
  "sweep.drift": SweepDriftPayloadSchema,
  "cutoff.arm": CutoffArmPayloadSchema,
  "bucket.apply": BucketApplyPayloadSchema,
  "request.on-call-check": RequestOnCallCheckPayloadSchema,
  "sweep.tickets": SweepTicketsPayloadSchema,
  "signin.notify": SignInNotifyPayloadSchema,
} as const satisfies { [K in JobName]: z.ZodType };

export type Payload<K extends JobName> = z.output<(typeof jobSchemas)[K]>;

export type JobDefinition<K extends JobName> = {
  schema: z.ZodType<Payload<K>>;
  queue: QueueName;
  options: JobOptions;
  /** BullMQ priority: a LOWER number is taken first. Always >= 1; see `PRIORITY`. */
  priority(payload: Payload<K>): number;
};

/** A mapped type, so that a job name without an entry does not compile. */
export type JobCatalog = { readonly [K in JobName]: JobDefinition<K> };

/**
 * Priority bands, lowest first. Every job gets an explicit band because BullMQ runs jobs without a
 * priority (0) before all prioritized ones.
 * - Session cut-offs (arming them, and the bucket applies that land them) come first of all: they
 *   end data access on time, and must not wait behind K removals queued at the Identity Center
 *   quota (K/18 s), which equal priority would make them do (BullMQ runs equal priorities in order).
 * - Removals come next: an ended lease must not wait behind grants (DESIGN.md "removals go before
 *   creations"), and revocation lag is the number we promise.
 * - Sweeps back removals up when Redis lost a job (invariant 4), so they rank just after them.
 * - Notifications and timeouts are cheap and touch no Identity Center quota; resolving a new
 *   requester's Identity Center user (three reads) goes with them, so that it is done by the time
 *   an approver clicks.
 * - Creations (approvals, extensions) follow; the drift scan is a slow background audit.
 */
export const PRIORITY = {
  cutoff: 1,
  removal: 2,
  sweep: 3,
  notify: 4,
  timeOut: 5,
  creation: 6,
  drift: 7,
} as const;

const HOUR_S = 3600;

/**
 * Finished jobs are kept for a while because a kept job id is what makes a second enqueue with the
 * same id a no-op (see producer.ts); the count caps memory under bursts.
 */
function keep(options: { attempts: number; firstRetryMs: number }): JobOptions {
  return {
    attempts: options.attempts,
    // Jitter spreads the retries of jobs that failed together (a throttling burst, a Redis or
    // database blip) so they do not come back as the same burst.
    backoff: { type: "exponential", delay: options.firstRetryMs, jitter: 0.5 },
    removeOnComplete: { age: 24 * HOUR_S, count: 20_000 },
    removeOnFail: { age: 7 * 24 * HOUR_S, count: 50_000 },
  };
}

export const jobCatalog: JobCatalog = {
  "assignment.reconcile": {
    schema: AssignmentReconcilePayloadSchema,
    queue: "keyturn",
    // 1 s doubling over 10 attempts is ~8.5 min of retries; after that the lease sweep takes over.
    options: keep({ attempts: 10, firstRetryMs: 1_000 }),
    priority: ({ cause }) => {
      if (REMOVAL_CAUSES.has(cause)) {
        return PRIORITY.removal;
      }
      return cause === "sweep" ? PRIORITY.sweep : PRIORITY.creation;
    },
  },
  "identity.resolve": {
    schema: IdentityResolvePayloadSchema,
    queue: "keyturn",
    // Only a head start: the reconciler resolves the user itself if this never succeeds.
    options: keep({ attempts: 5, firstRetryMs: 2_000 }),
    priority: () => PRIORITY.notify,
  },
  "request.notify": {
    schema: RequestNotifyPayloadSchema,
    queue: "keyturn",
    // Slack outages last minutes: 2 s doubling over 8 attempts spans ~4 min.
    options: keep({ attempts: 8, firstRetryMs: 2_000 }),
    priority: () => PRIORITY.notify,
  },
  "request.time-out": {
    schema: RequestTimeOutPayloadSchema,
    queue: "keyturn",
    options: keep({ attempts: 10, firstRetryMs: 1_000 }),
    priority: () => PRIORITY.timeOut,
  },
  "sweep.leases": {
    schema: SweepLeasesPayloadSchema,
    queue: "keyturn",
    // The next scheduled sweep is the real retry; a few quick ones cover a blip.
    options: keep({ attempts: 3, firstRetryMs: 5_000 }),
    priority: () => PRIORITY.sweep,
  },
  "sweep.drift": {
    schema: SweepDriftPayloadSchema,
    queue: "keyturn",
    options: keep({ attempts: 3, firstRetryMs: 30_000 }),
    priority: () => PRIORITY.drift,
  },
  "cutoff.arm": {
    schema: CutoffArmPayloadSchema,
    queue: "keyturn",
    // Database work only; after the retries the lease sweep arms what this missed.
    options: keep({ attempts: 8, firstRetryMs: 500 }),
    priority: () => PRIORITY.cutoff,
  },
  "bucket.apply": {
    schema: BucketApplyPayloadSchema,
    queue: "keyturn",
    // S3 refusing: retried with backoff (~8.5 min), then the sweep re-applies a bucket whose wanted
    // change has not landed, every sweep, until it does.
    options: keep({ attempts: 10, firstRetryMs: 1_000 }),
    priority: () => PRIORITY.cutoff,
  },
  "request.on-call-check": {
    schema: RequestOnCallCheckPayloadSchema,
    queue: "keyturn",
    // A failed provider check is an answer (the request goes to the approvers), not a retry; the
    // retries cover the database. Until one succeeds the request simply waits for its approvers.
    options: keep({ attempts: 5, firstRetryMs: 1_000 }),
    priority: () => PRIORITY.notify,
  },
  "sweep.tickets": {
    schema: SweepTicketsPayloadSchema,
    queue: "keyturn",
    // The next scheduled poll is the real retry.
    options: keep({ attempts: 2, firstRetryMs: 5_000 }),
    priority: () => PRIORITY.sweep,
  },
  "signin.notify": {
    schema: SignInNotifyPayloadSchema,
    queue: "keyturn",
    // Someone is waiting at a terminal, and the sign-in lasts 5 min: 1 s doubling over 6 attempts
    // is ~1 min; a DM later than that is worth little.
    options: keep({ attempts: 6, firstRetryMs: 1_000 }),
    priority: () => PRIORITY.notify,
  },
};

/** What a handler learns about the job besides its payload. */
export type JobContext = {
  name: JobName;
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  /** `attempt === maxAttempts` is the last chance: a handler may record a failure for good then. */
  maxAttempts: number;
  /** When the producer enqueued the job (its `now`). */
  enqueuedAt: Date;
};

/** A handler per job name: leaving one out is a compile error (and `assertHandlers` at runtime). */
export type Handlers = { [K in JobName]: (payload: Payload<K>, ctx: JobContext) => Promise<void> };

const jobNames: ReadonlySet<string> = new Set(JOB_NAMES);

export function isJobName(name: string): name is JobName {
  return jobNames.has(name);
}

export type ParsedPayload<K extends JobName> =
  | { ok: true; payload: Payload<K> }
  | { ok: false; issues: string };

/**
 * Validates a payload against its job's schema. The issue summary names paths and problems only,
 * never values, so it is safe to log and to store as a job's failure reason.
 */
export function parsePayload<K extends JobName>(name: K, data: unknown): ParsedPayload<K> {
  const result = jobCatalog[name].schema.safeParse(data);
  if (result.success) {
    return { ok: true, payload: result.data };
  }
  const issues = result.error.issues
    .map((issue) => {
      const keys = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
      return `${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${issue.code}${keys}`;
    })
    .join("; ");
  return { ok: false, issues };
}

export function priorityOf<K extends JobName>(name: K, payload: Payload<K>): number {
  return jobCatalog[name].priority(payload);
}

/**
 * The runtime twin of the `Handlers` type, for handler maps assembled dynamically (or cast): throws
 * naming every job without a handler.
 */
export function assertHandlers(handlers: Partial<Record<JobName, unknown>>): asserts handlers is Handlers {
  const missing = JOB_NAMES.filter((name) => typeof handlers[name] !== "function");
  if (missing.length > 0) {
    throw new AppError("INVALID_CONFIGURATION", `No handler for job(s): ${missing.join(", ")}`, {
      retryable: false,
    });
  }
}
