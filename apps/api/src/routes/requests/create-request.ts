import { createHash } from "node:crypto";
import { canonicalJson } from "@keyturn/core";
import { submitRequest } from "@keyturn/usecases";
import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import { authOf, principalOf, requireScope } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import { CreateRequestBodySchema } from "../../schemas/request-inputs.js";
import { RequestViewSchema } from "../../schemas/request-view.js";
import { respondWithRequest } from "./respond.js";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

const CreateRequestHeadersSchema = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 visible ASCII characters")
    .optional()
    .meta({
      description:
        "Makes a retry safe: the same key (per token) with the same body answers with the request the " +
        "first call made, however often it is sent, even across an API crash; with another body it " +
        "is refused (422 IDEMPOTENCY_KEY_REUSED). Use a fresh random key (a UUID) per request.",
    }),
});

export function registerCreateRequest(app: App, deps: RouteDeps): void {
  app.post(
    "/requests",
    {
      config: { scopes: ["requests:write", "requests:self", "requests:on-behalf"] },
      schema: {
        tags: ["requests"],
        summary: "Request access, for yourself or (integrations) on a requester's behalf",
        description:
          "Without requesterEmail, or with the token's own person's email, the token's owner requests " +
          "for themselves (scope requests:write, a person token; source api). Naming anyone else files " +
          "on their behalf: that needs scope requests:on-behalf (meant for integrations such as a " +
          "ticketing system), and the request is marked source integration, with the calling token in " +
          "the audit trail (request.submitted) and in the Slack message approvers see. Filing on " +
          "someone's behalf never lets the filer decide for them: approvals are always by the " +
          "identity that holds the approving token.",
        headers: CreateRequestHeadersSchema,
        body: CreateRequestBodySchema,
        response: { 201: RequestViewSchema },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const { token } = authOf(request);
      const own = token.ownerKind === "person" ? token.owner : null;
      const requesterEmail = body.requesterEmail?.toLowerCase() ?? own;
      if (requesterEmail === null) {
        throw new HttpProblem(
          "VALIDATION_FAILED",
          "invalid body: body.requesterEmail: is required with a service token, which files on someone's behalf",
          { errors: [{ path: "body.requesterEmail", message: "is required with a service token" }] },
        );
      }
      const onBehalf = requesterEmail !== own;
      if (onBehalf) {
        requireScope(request, "requests:on-behalf");
      } else if (!authOf(request).scopes.has("requests:self")) {
        requireScope(request, "requests:write");
      }
      const key = request.headers["idempotency-key"];
      const result = await submitRequest(deps.usecases, {
        flowName: body.flow,
        // The requester is the person named; the audit trail names the token that asked.
        requester: { email: requesterEmail, audit: principalOf(request).audit },
        source: onBehalf ? "integration" : "api",
        ...(body.target === undefined ? {} : { target: body.target }),
        ...(body.durationSeconds === undefined ? {} : { durationSeconds: body.durationSeconds }),
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.ticket === undefined ? {} : { ticket: body.ticket }),
        // Scoped to the token: two clients choosing the same key never see each other's request.
        ...(key === undefined
          ? {}
          : {
              idempotencyKey: `api:${token.id}:${sha256(key)}`,
              idempotencyFingerprint: sha256(canonicalJson(body)),
            }),
      });
      const view = await respondWithRequest(deps, result);
      return reply.code(201).send(view);
    },
  );
}
