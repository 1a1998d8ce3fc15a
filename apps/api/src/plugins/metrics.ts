import type { AwsCallObserver } from "@keyturn/aws";
import type { PrismaClient } from "@keyturn/db";
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
      const groups = await prisma.accessRequest.groupBy({
        by: ["status", "flowName"],
        _count: { _all: true },
      });
      for (const group of groups) {
        this.set({ state: group.status, flow: group.flowName }, group._count._all);
      }
    },
  });
  new Gauge({
    name: "keyturn_active_leases",
    help: "Leases currently holding an assignment.",
    registers: [registry],
    async collect() {
      this.set(await prisma.lease.count({ where: { releasedAt: null, endsAt: { gt: new Date() } } }));
    },
  });
  new Gauge({
    name: "keyturn_approval_time_seconds",
    help: "Time from submission to decision of requests decided in the last 24 hours, by quantile.",
    labelNames: ["quantile"],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await prisma.$queryRaw<{ p50: number | null; p90: number | null; p99: number | null }[]>`
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY s) AS p99
        FROM (SELECT EXTRACT(EPOCH FROM ("decidedAt" - "createdAt"))::float8 AS s FROM "AccessRequest"
              WHERE "decidedAt" > now() - interval '24 hours') d`;
      const row = rows[0];
      for (const [quantile, value] of [
        ["0.5", row?.p50],
        ["0.9", row?.p90],
        ["0.99", row?.p99],
      ] as const) {
        if (value !== null && value !== undefined) {
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
