import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { PrismaClient } from "@keyturn/db";
import { QUEUE_NAMES } from "@keyturn/queue";
import type { ApiScope, Clock } from "@keyturn/usecases";
import { type ConnectionOptions, Queue } from "bullmq";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpProblem } from "../http-errors.js";
import { insufficientScope, verifyToken } from "./auth.js";
import { replyWithProblem } from "./problems.js";

export const QUEUE_DASHBOARD_PATH = "/admin/queues";

/**
 * Who may look, and who may act (retry, promote, clean, pause, ...): scopes of their own, so that
 * watching the queues does not come with the power to change flows. Job payloads hold only ids and
 * small enumerations (catalog.ts), never secrets.
 */
export const QUEUE_DASHBOARD_SCOPES = {
  read: ["queues:read", "queues:write"],
  write: ["queues:write"],
} as const satisfies Record<string, readonly ApiScope[]>;

type QueueAccess = "read" | "write";
type BoardServerAdapter = Parameters<typeof createBullBoard>[0]["serverAdapter"];

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the dashboard's auth hook on its routes. */
    queueAccess: QueueAccess | null;
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

/**
 * bull-board (the queues of @keyturn/queue's catalog, under the worker's key prefix) at
 * /admin/queues, behind API tokens: 401 with a Basic challenge without a valid token, 403 for a
 * token without an admin scope, and read-only for a token that may look but not act (the actions
 * are refused here and hidden in the UI). Its routes are hidden from the OpenAPI document: they
 * are a UI, not part of the API.
 */
export async function registerQueueDashboard(
  app: FastifyInstance,
  deps: { prisma: PrismaClient; clock: Clock; connection: ConnectionOptions; prefix: string },
): Promise<void> {
  // Opened here, closed with the app; the connection belongs to the caller.
  const queues = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, { connection: deps.connection, prefix: deps.prefix });
    // Without a listener BullMQ prints these to stderr; the page itself answers 500 meanwhile.
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

  await app.register(async (scope) => {
    scope.decorateRequest("queueAccess", null);

    scope.addHook("onRequest", async (request, reply) => {
      const token = presentedToken(request);
      if (token === undefined) {
        return replyWithProblem(
          request,
          reply,
          unauthenticated("sign in with an API token as the password (any user name)"),
        );
      }
      let record: Awaited<ReturnType<typeof verifyToken>>;
      try {
        record = await verifyToken(deps, token);
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
      return undefined;
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
