export { type AwsCallObservation, registerAwsCallMetrics } from "./aws-call-metrics.js";
export { exitOnSignal } from "./graceful-shutdown.js";
export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { answersWithin } from "./readiness-probe.js";
export { REDACT_PATHS, scrubSecrets } from "./redact.js";
export { type CommittedChange, logStateChanges, withLogContext } from "./state-changes.js";
