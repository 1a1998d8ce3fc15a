export {
  AssignmentReconcilePayloadSchema,
  assertHandlers,
  type Handlers,
  IdentityResolvePayloadSchema,
  isJobName,
  JOB_NAMES,
  type JobCatalog,
  type JobContext,
  type JobDefinition,
  type JobName,
  type JobOptions,
  jobCatalog,
  type ParsedPayload,
  type Payload,
  PRIORITY,
  parsePayload,
  priorityOf,
  QUEUE_NAMES,
  type QueueName,
  RECONCILE_CAUSES,
  REMOVAL_CAUSES,
  type ReconcileCause,
  RequestNotifyPayloadSchema,
  RequestTimeOutPayloadSchema,
  SweepDriftPayloadSchema,
  SweepLeasesPayloadSchema,
} from "./catalog.js";
export {
  type ConnectionRole,
  createRedisConnection,
  DEFAULT_PREFIX,
  type RedisConnectionOptions,
  validatePrefix,
} from "./connection.js";
export {
  createWorker,
  type JobOutcome,
  type QueueWorker,
  RunLater,
  toWorkerError,
  type WorkerOptions,
} from "./create-worker.js";
export type { QueueLogger } from "./logger.js";
export {
  createProducer,
  type EnqueueOptions,
  type Producer,
  type ProducerOptions,
  toBullJobId,
} from "./producer.js";
export {
  type CallKind,
  createRedisRateLimiter,
  type RateLimiter,
  type RedisRateLimiterOptions,
  type TimeSource,
} from "./redis-rate-limiter.js";
