import type { AwsCallObserver } from "@keyturn/aws";
import {
  approvalTimeQuantiles,
  countLiveLeases,
  countRequestsByStatusAndFlow,
  type PrismaClient,
} from "@keyturn/db";
import { registerAwsCallMetrics } from "@keyturn/observability";
import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus series of the API. Domain figures (requests by state and flow, active leases,
 * approval time) are read from PostgreSQL when scraped, so every API replica reports the same truth
 * and nothing is lost on restart.
 */
export function createApiMetrics(prisma: PrismaClient) {
  const registry = new Registry();
  const httpRequests = new Counter({
    name: "keyturn_api_http_requests_total",
    help: "HTTP requests by route, method and status.",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "keyturn_api_http_request_duration_seconds",
    help: "HTTP request duration by route.",
    labelNames: ["route", "method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: "keyturn_requests",
    help: "Access requests by state and flow.",
    labelNames: ["state", "flow"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const group of await countRequestsByStatusAndFlow(prisma)) {
        this.set({ state: group.status, flow: group.flowName }, group.count);
      }
    },
  });
  new Gauge({
    name: "keyturn_active_leases",
    help: "Leases currently holding an assignment.",
    registers: [registry],
    async collect() {
      this.set(await countLiveLeases(prisma, new Date()));
    },
  });
  new Gauge({
    name: "keyturn_approval_time_seconds",
    help: "Time from submission to decision of requests decided in the last 24 hours, by quantile.",
    labelNames: ["quantile"],
    registers: [registry],
    async collect() {
      this.reset();
      const row = await approvalTimeQuantiles(prisma);
      for (const [quantile, value] of [
        ["0.5", row.p50],
        ["0.9", row.p90],
        ["0.99", row.p99],
      ] as const) {
        if (value !== null) {
          this.set({ quantile }, value);
        }
      }
    },
  });
  // The API calls S3 for bucket policies.
  const aws = registerAwsCallMetrics(registry);
  /** For the S3 bucket-policy store's `onCall`. */
  const observeAwsCall: AwsCallObserver = aws.observe;
  return {
    registry,
    httpRequests,
    httpDuration,
    awsCalls: aws.calls,
    awsCallDuration: aws.duration,
    observeAwsCall,
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook("onResponse", async (request, reply) => {
    // The route pattern, not the URL: ids in paths would explode the series count.
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  app.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics", tags: ["operations"] } },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
