import { DatabaseError, translateDatabaseError } from "@keyturn/db";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type FieldError, HttpProblem, PROBLEM_CONTENT_TYPE } from "../http-errors.js";

/**
 * Sends a problem; returns the reply, for a hook to return. For hooks in a context with an error
 * handler of its own (the queue dashboard's), where a thrown HttpProblem would not reach ours.
 */
export function replyWithProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: HttpProblem,
): FastifyReply {
  // Our own serializer: a route's response schema describes its success body, not problems.
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .serializer(JSON.stringify)
    .send(problem.toProblem(request.id));
}

async function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: HttpProblem,
): Promise<void> {
  await replyWithProblem(request, reply, problem);
}

function validationProblem(error: FastifyError): HttpProblem | null {
  if (!hasZodFastifySchemaValidationErrors(error)) {
    return null;
  }
  const context = error.validationContext ?? "request";
  const errors: FieldError[] = error.validation.map((issue) => {
    const rest = issue.instancePath.split("/").filter((segment) => segment !== "");
    return { path: [context, ...rest].join("."), message: issue.message ?? "is invalid" };
  });
  const detail = `invalid ${context}: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`;
  return new HttpProblem("VALIDATION_FAILED", detail, { errors });
}

/** Fastify's own errors (content-type parsing, limits) in our vocabulary. */
function frameworkProblem(error: FastifyError): HttpProblem | null {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new HttpProblem("MALFORMED_JSON", "the request body is not valid JSON");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new HttpProblem(
        "MALFORMED_JSON",
        "the request body is empty but content-type is application/json: send {} or omit the header",
      );
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new HttpProblem("MALFORMED_JSON", "the request body does not match its Content-Length");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HttpProblem("PAYLOAD_TOO_LARGE", "the request body is larger than this API accepts");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HttpProblem("UNSUPPORTED_MEDIA_TYPE", "send request bodies as application/json");
    default:
      return null;
  }
}

/** The db adapter's translated errors: a lost race is retryable by the client, an outage too. */
function databaseProblem(error: unknown): HttpProblem | null {
  // Reads outside a unit of work surface raw driver errors; translate them the same way.
  const { code } = error instanceof DatabaseError ? error : translateDatabaseError(error);
  if (code === "CONFLICT") {
    return new HttpProblem("CONFLICT", "the change conflicted with a concurrent one; retry it");
  }
  if (code === "UNAVAILABLE" || code === "SERIALIZATION") {
    return new HttpProblem("UNAVAILABLE", "the database is busy or unavailable; retry shortly", {
      headers: { "retry-after": "1" },
    });
  }
  return null;
}

/**
 * Every failure leaves as application/problem+json. Expected ones carry their own detail; anything
 * else is a 500 whose detail is generic, while the real error is logged with the request id.
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const known =
      (error instanceof HttpProblem ? error : null) ??
      validationProblem(error) ??
      frameworkProblem(error) ??
      databaseProblem(error);
    if (known !== null) {
      if (known.status >= 500) {
        request.log.error({ err: error }, "request failed");
      }
      return sendProblem(request, reply, known);
    }
    const status = typeof error.statusCode === "number" ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Some other client error fastify raised (e.g. a bad header): keep its status, not a 500.
      request.log.info({ err: error }, "client error");
      const problem = new HttpProblem(status === 404 ? "NOT_FOUND" : "VALIDATION_FAILED", error.message);
      return sendProblem(request, reply, problem);
    }
    request.log.error({ err: error }, "unhandled error");
    return sendProblem(
      request,
      reply,
      new HttpProblem("INTERNAL", `something went wrong on our side; quote request id ${request.id}`),
    );
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(
      request,
      reply,
      new HttpProblem("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}
