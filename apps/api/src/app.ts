import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { ApiConfig } from "@keyturn/config";
import { createBucketPolicyUnitOfWork, createUnitOfWork, type PrismaClient } from "@keyturn/db";
import { type Logger, logStateChanges } from "@keyturn/observability";
import type { BucketPolicyStore, Clock, IdGenerator, Integrations, KeyturnIdentity } from "@keyturn/usecases";
import type { ConnectionOptions } from "bullmq";
import { type FastifyBaseLogger, fastify, LogController } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { HttpProblem, PROBLEM_CONTENT_TYPE } from "./http-errors.js";
import { createTokenVerifier, registerAuth } from "./plugins/auth.js";
import { registerInputGuard } from "./plugins/input-guard.js";
import { type ApiMetrics, createApiMetrics, registerMetrics } from "./plugins/metrics.js";
import { registerProblemHandlers, replyWithProblem } from "./plugins/problems.js";
import { QUEUE_DASHBOARD_PATH, registerQueueDashboard } from "./plugins/queue-dashboard.js";
import { registerRateLimits } from "./plugins/rate-limit.js";
import type { App, RouteDeps } from "./route-context.js";
import { registerHealthRoutes } from "./routes/health/index.js";
import { registerV1Routes } from "./routes/index.js";
import { registerCreateSignIn } from "./routes/sign-ins/create-sign-in.js";
import { registerPollSignIn } from "./routes/sign-ins/poll-sign-in.js";
import { registerTicketWebhooks, type TicketWebhookSecrets } from "./routes/webhooks/ticket-webhooks.js";
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
  /** On-call and ticket providers (ticket checks at submission; flows naming them). Absent: none. */
  integrations?: Integrations;
  /** The ticket webhooks' signing secrets; a provider without one answers 404 at its route. */
  webhookSecrets?: TicketWebhookSecrets;
};

// A caller's request id is kept when it is a sane token, so logs line up across services.
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Longer than any id or name a route takes (ids are 36, names 63), so such parameters still reach
// the route's schema and get its precise 400; anything longer is refused by the router.
const MAX_PARAM_LENGTH = 512;

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
    // request.ip: the socket's address, or behind these proxies the address they saw.
    trustProxy: deps.config.trustedProxies.length === 0 ? false : deps.config.trustedProxies,
    bodyLimit: deps.config.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router's own refusals, which happen before any hook, in our vocabulary too.
    frameworkErrors: (error, request, reply) => {
      const problem =
        error.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? new HttpProblem("URI_TOO_LONG", `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`)
          : error.code === "FST_ERR_BAD_URL"
            ? new HttpProblem("INVALID_URL", "the path is not valid percent-encoding")
            : new HttpProblem("INTERNAL", `something went wrong on our side; quote request id ${request.id}`);
      if (problem.status >= 500) {
        request.log.error({ err: error }, "router error");
      }
      void replyWithProblem(request, reply, problem);
    },
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
  // Before anything that reads a token: per client address, then (in auth) per token id.
  const limitToken = registerRateLimits(app, {
    perAddressPerMinute: deps.config.rateLimitPerAddressPerMinute,
    perTokenPerMinute: deps.config.rateLimitPerMinute,
  });
  const verify = createTokenVerifier({ prisma: deps.prisma, clock: deps.clock });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Keyturn admin API",
        description:
          "Just-in-time AWS access: flows, requests, reviews, audit and API tokens.\n\n" +
          "Every /v1 route names the scopes that admit a caller. A person token acts as its person " +
          "(their requests and reviews); a service token never reviews. Filing a request for someone " +
          "else takes requests:on-behalf; tokens are minted and revoked only within the caller's own " +
          "scopes, and person tokens only for the caller's own person. Requests are rate-limited per " +
          "client address before authentication and per token after it (429 RATE_LIMITED with " +
          "Retry-After). Errors are application/problem+json with a stable code. The operator guide's " +
          '"Security model" says what no scope can do.',
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
      // One info line per state change a caller made (request ids, actor), for grep across apps.
      uow: createUnitOfWork(deps.prisma, {
        clock: deps.clock,
        ids: deps.ids,
        onCommitted: logStateChanges(deps.logger),
      }),
      clock: deps.clock,
      ids: deps.ids,
      ...(deps.integrations === undefined ? {} : { integrations: deps.integrations }),
    },
    buckets: {
      uow: createBucketPolicyUnitOfWork(deps.prisma, {
        clock: deps.clock,
        ids: deps.ids,
        onCommitted: logStateChanges(deps.logger),
      }),
      clock: deps.clock,
      ...(deps.bucketPolicies === undefined ? {} : { store: deps.bucketPolicies }),
      ...(deps.keyturn === undefined ? {} : { keyturn: deps.keyturn }),
    },
  };
  const redis = deps.queues?.connection as { ping?: () => Promise<string> } | undefined;
  registerHealthRoutes(app, {
    ...routeDeps,
    ...(typeof redis?.ping === "function"
      ? { redis: { ping: () => (redis.ping as () => Promise<string>).call(redis) } }
      : {}),
  });
  registerMetrics(app, deps.metrics ?? createApiMetrics(deps.prisma));
  if (deps.queues === undefined) {
    deps.logger.info(
      `queue dashboard not served: no Redis configured (set REDIS_URL to serve ${QUEUE_DASHBOARD_PATH})`,
    );
  } else {
    await registerQueueDashboard(app, {
      verify,
      usecases: routeDeps.usecases,
      connection: deps.queues.connection,
      prefix: deps.queues.prefix,
    });
    deps.logger.info({ path: QUEUE_DASHBOARD_PATH, prefix: deps.queues.prefix }, "queue dashboard served");
  }
  await app.register(
    async (v1) => {
      registerAuth(v1, { verify, limitToken });
      registerInputGuard(v1);
      registerV1Routes(v1.withTypeProvider<ZodTypeProvider>(), routeDeps);
    },
    { prefix: "/v1" },
  );
  await registerTicketWebhooks(app, { ...routeDeps, secrets: deps.webhookSecrets ?? {} });
  // `keyturn login` starts without a token: outside the authenticated context, behind the per
  // address rate limit and the same input checks.
  await app.register(
    async (signIns) => {
      registerInputGuard(signIns);
      const typed = signIns.withTypeProvider<ZodTypeProvider>();
      registerCreateSignIn(typed, routeDeps);
      registerPollSignIn(typed, routeDeps);
    },
    { prefix: "/v1" },
  );
  return app;
}
