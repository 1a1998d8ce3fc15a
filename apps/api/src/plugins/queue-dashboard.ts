import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { QUEUE_NAMES } from "@keyturn/queue";
import { type ApiScope, type ApiTokenRecord, type Deps, recordOperatorAction } from "@keyturn/usecases";
import { type ConnectionOptions, Queue } from "bullmq";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpProblem, PROBLEM_CONTENT_TYPE } from "../http-errors.js";
import { insufficientScope, type TokenVerifier } from "./auth.js";
import { replyWithProblem } from "./problems.js";

export const QUEUE_DASHBOARD_PATH = "/admin/queues";

/**
 * Who may look, and who may act (retry, promote, clean, pause, ...): scopes of their own, so that
 * watching the queues does not come with the power to change flows. Job payloads hold only ids and
 * small enumerations (catalog.ts), never secrets.
 */
const QUEUE_DASHBOARD_SCOPES = {
  read: ["queues:read", "queues:write"],
  write: ["queues:write"],
} as const satisfies Record<string, readonly ApiScope[]>;

type QueueAccess = "read" | "write";
type BoardServerAdapter = Parameters<typeof createBullBoard>[0]["serverAdapter"];

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the dashboard's auth hook on its routes. */
    queueAccess: QueueAccess | null;
    /** The token that signed in to the dashboard (for the audit of its actions). */
    queueToken: ApiTokenRecord | null;
  }
}

// A browser cannot be told to send a bearer header, but it asks for Basic credentials on a 401
// with this challenge (any user name; the password is the token).
const CHALLENGE = 'Basic realm="keyturn", charset="UTF-8"';

function unauthenticated(detail: string): HttpProblem {
  return new HttpProblem("UNAUTHENTICATED", detail, { headers: { "www-authenticate": CHALLENGE } });
}

/** The token from `Basic base64(<anything>:<token>)`, or from `Bearer <token>` for scripts. */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? "";
  const basic = /^Basic +([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header)?.[1];
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return /^Bearer +(\S+)\s*$/i.exec(header)?.[1];
}

const READ_ONLY_METHODS = new Set(["GET", "HEAD"]);

function queuesUnavailable(): HttpProblem {
  return new HttpProblem("UNAVAILABLE", "the job queue's Redis is not answering; retry shortly", {
    headers: { "retry-after": "5" },
  });
}

/** Whether the connection (an ioredis client, as main.ts passes) is up; options alone: assume so. */
function connectionReady(connection: ConnectionOptions): boolean {
  const status = (connection as { status?: unknown }).status;
  return typeof status !== "string" || status === "ready";
}

/**
 * What a dashboard action is, for the audit: `queue.<operation>` from the route's last fixed
 * word (pause, resume, clean, retry, promote, empty, obliterate, ...), with the route's params.
 */
function operationOf(route: string): string {
  const words = route
    .slice(QUEUE_DASHBOARD_PATH.length)
    .split("/")
    .filter((word) => word !== "" && !word.startsWith(":") && word !== "api" && word !== "queues");
  return words.at(-1) ?? "unknown";
}

/**
 * bull-board (the queues of @keyturn/queue's catalog, under the worker's key prefix) at
 * /admin/queues, behind API tokens: 401 with a Basic challenge without a valid token, 403 for a
 * token without an admin scope, and read-only for a token that may look but not act (the actions
 * are refused here and hidden in the UI). Its routes are hidden from the OpenAPI document: they
 * are a UI, not part of the API.
 */
export async function registerQueueDashboard(
  app: FastifyInstance,
  deps: { verify: TokenVerifier; usecases: Deps; connection: ConnectionOptions; prefix: string },
): Promise<void> {
  // Opened here, closed with the app; the connection belongs to the caller.
  const queues = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, { connection: deps.connection, prefix: deps.prefix });
    // Without a listener BullMQ prints these to stderr; the dashboard answers 503 meanwhile.
    queue.on("error", (error) => {
      app.log.warn({ err: error, queue: name }, "queue dashboard: Redis error");
    });
    return queue;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    // @bull-board/fastify 9.10.1 is typed against its own @bull-board/api 9.10.1, this board is
    // 9.10.2: one interface, but two declarations of BaseAdapter's private fields, which TypeScript
    // treats as unrelated types. At run time the Fastify adapter only stores what it is given.
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: "Keyturn queues" } },
  });
  // The board answers its own errors with the Redis client's text; ours become problems (onSend).
  serverAdapter.setErrorHandler((error) => {
    app.log.warn({ err: error }, "queue dashboard: a request failed");
    return { status: 500, body: {} };
  });

  await app.register(async (scope) => {
    scope.decorateRequest("queueAccess", null);
    scope.decorateRequest("queueToken", null);

    scope.addHook("onRequest", async (request, reply) => {
      const token = presentedToken(request);
      if (token === undefined) {
        return replyWithProblem(
          request,
          reply,
          unauthenticated("sign in with an API token as the password (any user name)"),
        );
      }
      let record: ApiTokenRecord | null;
      try {
        record = await deps.verify(token);
      } catch (error) {
        request.log.error({ err: error }, "could not check a queue dashboard token");
        return replyWithProblem(
          request,
          reply,
          new HttpProblem("UNAVAILABLE", "could not check the token; retry shortly", {
            headers: { "retry-after": "1" },
          }),
        );
      }
      if (record === null) {
        return replyWithProblem(
          request,
          reply,
          unauthenticated("the API token is unknown, revoked or expired"),
        );
      }
      const held = new Set<string>(record.scopes);
      const may = (scopes: readonly string[]) => scopes.some((s) => held.has(s));
      if (!may(QUEUE_DASHBOARD_SCOPES.read)) {
        return replyWithProblem(request, reply, insufficientScope(QUEUE_DASHBOARD_SCOPES.read));
      }
      const access: QueueAccess = may(QUEUE_DASHBOARD_SCOPES.write) ? "write" : "read";
      if (access === "read" && !READ_ONLY_METHODS.has(request.method)) {
        return replyWithProblem(request, reply, insufficientScope(QUEUE_DASHBOARD_SCOPES.write));
      }
      request.queueAccess = access;
      request.queueToken = record;
      if (!connectionReady(deps.connection) && request.routeOptions.url?.includes("/api/") === true) {
        return replyWithProblem(request, reply, queuesUnavailable());
      }
      return undefined;
    });

    // Every action is audited before it runs (who, what, on which queue and jobs); an action whose
    // audit cannot be written does not run.
    scope.addHook("preHandler", async (request, reply) => {
      const token = request.queueToken;
      if (READ_ONLY_METHODS.has(request.method) || token === null) {
        return undefined;
      }
      const route = request.routeOptions.url ?? request.url;
      try {
        await recordOperatorAction(deps.usecases, {
          actor: { type: "token", id: token.id, label: token.name },
          action: `queue.${operationOf(route)}`,
          data: {
            method: request.method,
            route,
            params: request.params as Record<string, unknown>,
            query: request.query as Record<string, unknown>,
          },
        });
      } catch (error) {
        request.log.error({ err: error }, "could not audit a queue dashboard action; not running it");
        return replyWithProblem(
          request,
          reply,
          new HttpProblem("UNAVAILABLE", "could not record the action in the audit log; retry shortly", {
            headers: { "retry-after": "1" },
          }),
        );
      }
      return undefined;
    });

    // Failures of the board's own handlers (Redis gone mid-request) leave as problems, never as the
    // client library's text.
    scope.addHook("onSend", async (request, reply, payload) => {
      const type = String(reply.getHeader("content-type") ?? "");
      if (reply.statusCode < 500 || type.startsWith(PROBLEM_CONTENT_TYPE)) {
        return payload;
      }
      const problem = connectionReady(deps.connection)
        ? new HttpProblem("INTERNAL", `the queue dashboard failed; quote request id ${request.id}`)
        : queuesUnavailable();
      reply.code(problem.status).headers(problem.headers).type(PROBLEM_CONTENT_TYPE);
      return JSON.stringify(problem.toProblem(request.id));
    });

    // The UI hides its action buttons for a queue it is told is read-only.
    scope.addHook("preSerialization", async (request, _reply, payload) => {
      const body = payload as { queues?: unknown } | null;
      if (
        request.queueAccess === "write" ||
        request.routeOptions.url !== `${QUEUE_DASHBOARD_PATH}/api/queues` ||
        !Array.isArray(body?.queues)
      ) {
        return payload;
      }
      return {
        ...body,
        queues: body.queues.map((queue: object) => ({
          ...queue,
          readOnlyMode: true,
          allowRetries: false,
          allowCompletedRetries: false,
        })),
      };
    });

    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });

  app.addHook("onClose", async () => {
    await Promise.all(queues.map((queue) => queue.close()));
  });
}
