import { Counter, Histogram, type Registry } from "prom-client";

/** One AWS call attempt, as packages/aws reports it to its `onCall` observer. */
export type AwsCallObservation = {
  service: string;
  operation: string;
  /** "ok", or AWS's error name (or the network code when AWS never answered). */
  outcome: string;
  durationMs: number;
};

/**
 * keyturn_aws_calls_total and keyturn_aws_call_duration_seconds, the same in every app that calls
 * AWS (the worker: Identity Center and S3; the api: S3), so that one query covers them all.
 */
export function registerAwsCallMetrics(registry: Registry) {
  const calls = new Counter({
    name: "keyturn_aws_calls_total",
    help: "AWS API call attempts (retried ones included) by service, operation and outcome (ok or AWS's error name).",
    labelNames: ["service", "operation", "outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "keyturn_aws_call_duration_seconds",
    help: "Duration of one AWS API call attempt, by service and operation.",
    labelNames: ["service", "operation"],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const observe = ({ service, operation, outcome, durationMs }: AwsCallObservation): void => {
    calls.inc({ service, operation, outcome });
    duration.observe({ service, operation }, durationMs / 1000);
  };
  return { calls, duration, observe };
}
