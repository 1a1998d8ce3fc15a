import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { bucketPolicyEngine } from "@keyturn/bucket-policy";
import type { ApiConfig } from "@keyturn/config";
import { createBucketPolicyUnitOfWork, createUnitOfWork, type PrismaClient } from "@keyturn/db";
import type { Logger } from "@keyturn/observability";
import type {
  BucketPolicyEngine,
  BucketPolicyStore,
  Clock,
  IdGenerator,
  KeyturnIdentity,
} from "@keyturn/usecases";
import type { ConnectionOptions } from "bullmq";
import { type FastifyBaseLogger, fastify, LogController } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { PROBLEM_CONTENT_TYPE } from "./http-errors.js";
import { registerAuth } from "./plugins/auth.js";
import { type ApiMetrics, createApiMetrics, registerMetrics } from "./plugins/metrics.js";
import { registerProblemHandlers } from "./plugins/problems.js";
import { QUEUE_DASHBOARD_PATH, registerQueueDashboard } from "./plugins/queue-dashboard.js";
import { registerRateLimit } from "./plugins/rate-limit.js";
import type { App, RouteDeps } from "./route-context.js";
import { registerHealthRoutes } from "./routes/health/index.js";
import { registerV1Routes } from "./routes/index.js";
import { ProblemSchema } from "./schemas/problem.js";

export type AppDeps = {
  prisma: PrismaClient;
  logger: Logger;
  clock: Clock;
  ids: IdGenerator;
  config: ApiConfig["api"];
  /**
   * Reads and writes bucket policies in S3 (@keyturn/aws's createBucketPolicyStore). Optional:
   * without it the bucket routes that touch S3 answer 503 S3_NOT_CONFIGURED.
   */
  bucketPolicies?: BucketPolicyStore;
  /** Who Keyturn is in AWS (STS or configuration): bucket specs that would lock it out are refused. */
  keyturn?: KeyturnIdentity;
  /**
   * The registry /metrics serves; created by the caller when an adapter counts into it (the S3
   * store's AWS calls). Default: a fresh one.
   */
  metrics?: ApiMetrics;
  /**
   * The worker's Redis and key prefix: the queue dashboard at /admin/queues. Absent: no dashboard.
   * The connection is the caller's to close, after the app.
   */
  queues?: { connection: ConnectionOptions; prefix: string };
};

// The pure policy package as the use cases' port; the compiler checks here that it fits.
const engine: BucketPolicyEngine = bucketPolicyEngine;

// A caller's request id is kept when it is a sane token, so logs line up across services.
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const PROBLEM_RESPONSE = {
  description: "An error, as RFC 9457 problem details",
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
};

/**
 * Every API route can fail with a problem; say so in the OpenAPI document. (The error handler
 * serializes problems itself, so these schemas only document.)
 */
function documentProblems(app: App): void {
  app.addHook("onRoute", (route) => {
    // Hidden routes (the queue dashboard's UI, its static files) answer in their own formats.
    if (route.url.startsWith("/docs") || route.schema?.hide === true) {
      return;
    }
    const response = (route.schema?.response ?? {}) as Record<string, unknown>;
    route.schema = {
      ...route.schema,
      response: { ...response, "4xx": PROBLEM_RESPONSE, "5xx": PROBLEM_RESPONSE },
    };
  });
}

/** The API as a Fastify instance, ready to `inject()` or `listen()`; it is not listening yet. */
export async function buildApp(deps: AppDeps): Promise<App> {
  // Widened to Fastify's logger interface so every part of the app shares one instance type.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = fastify({
    loggerInstance,
    bodyLimit: deps.config.bodyLimitBytes,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: "requestId" }),
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && INCOMING_REQUEST_ID.test(incoming) ? incoming : deps.ids.uuid();
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body would otherwise reach validation as a string.
  app.removeContentTypeParser("text/plain");
  registerProblemHandlers(app);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Keyturn admin API",
        description: "Just-in-time AWS access: flows, requests, reviews, audit and API tokens.",
        version: "1.0.0",
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A Keyturn API token" } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  documentProblems(app);

  const routeDeps: RouteDeps = {
    prisma: deps.prisma,
    clock: deps.clock,
    ids: deps.ids,
    usecases: {
      uow: createUnitOfWork(deps.prisma, { clock: deps.clock, ids: deps.ids }),
      clock: deps.clock,
      ids: deps.ids,
    },
    buckets: {
      uow: createBucketPolicyUnitOfWork(deps.prisma, { clock: deps.clock, ids: deps.ids }),
      clock: deps.clock,
      engine,
      ...(deps.bucketPolicies === undefined ? {} : { store: deps.bucketPolicies }),
      ...(deps.keyturn === undefined ? {} : { keyturn: deps.keyturn }),
    },
  };
  registerHealthRoutes(app, routeDeps);
  registerMetrics(app, deps.metrics ?? createApiMetrics(deps.prisma));
  if (deps.queues === undefined) {
    deps.logger.info(
      `queue dashboard not served: no Redis configured (set REDIS_URL to serve ${QUEUE_DASHBOARD_PATH})`,
    );
  } else {
    await registerQueueDashboard(app, {
      prisma: deps.prisma,
      clock: deps.clock,
      connection: deps.queues.connection,
      prefix: deps.queues.prefix,
    });
    deps.logger.info({ path: QUEUE_DASHBOARD_PATH, prefix: deps.queues.prefix }, "queue dashboard served");
  }
  await app.register(
    async (v1) => {
      await registerRateLimit(v1, deps.config.rateLimitPerMinute);
      registerAuth(v1, routeDeps);
      registerV1Routes(v1.withTypeProvider<ZodTypeProvider>(), routeDeps);
    },
    { prefix: "/v1" },
  );
  return app;
}
