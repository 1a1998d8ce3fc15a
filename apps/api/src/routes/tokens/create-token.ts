import { createApiToken } from "@keyturn/usecases";
import { z } from "zod";
import { HttpProblem, useCaseProblem } from "../../http-errors.js";
import { authOf, insufficientScope } from "../../plugins/auth.js";
import type { App, RouteDeps } from "../../route-context.js";
import {
  ApiScopeSchema,
  ApiTokenSchema,
  ServiceNameSchema,
  toApiTokenJson,
} from "../../schemas/api-token.js";
import { IsoDateTimeSchema } from "../../schemas/common.js";

const common = {
  name: z.string().trim().min(1).max(100),
  scopes: z.array(ApiScopeSchema).min(1, "a token needs at least one scope"),
  expiresAt: IsoDateTimeSchema.exactOptional(),
};

const CreateTokenBodySchema = z.discriminatedUnion("ownerKind", [
  z.strictObject({ ...common, ownerKind: z.literal("person"), owner: z.email("must be the person's email") }),
  z.strictObject({ ...common, ownerKind: z.literal("service"), owner: ServiceNameSchema }),
]);

export function registerCreateToken(app: App, deps: RouteDeps): void {
  app.post(
    "/tokens",
    {
      config: { scopes: ["tokens:admin"] },
      schema: {
        tags: ["tokens"],
        summary: "Create an API token; the secret is in this response only",
        description:
          "Separation of duties: a token grants only scopes it holds itself, never outlives itself, and " +
          "mints person tokens only for its own person (a person token acts as that person: their " +
          "reviews count under the flows' rules, so an admin cannot mint one for someone else). Service " +
          "tokens may be minted for any service name. The audit event token.created names the minting " +
          "token, the owner and the scopes.",
        body: CreateTokenBodySchema,
        response: {
          201: ApiTokenSchema.extend({
            token: z.string().meta({ description: "The secret. Shown once; Keyturn stores only its hash" }),
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = authOf(request);
      const body = request.body;
      const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt);
      if (expiresAt !== undefined && expiresAt <= deps.clock.now()) {
        throw new HttpProblem("VALIDATION_FAILED", "invalid body: body.expiresAt: must be in the future", {
          errors: [{ path: "body.expiresAt", message: "must be in the future" }],
        });
      }
      const result = await createApiToken(deps.usecases, {
        name: body.name,
        ownerKind: body.ownerKind,
        owner: body.owner,
        scopes: body.scopes,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        by: { type: "token", token: caller.token },
      });
      if (!result.ok) {
        // Minting a token must not be a way up: nobody hands out a scope they do not hold.
        const beyond = result.error.details?.scopes;
        throw result.error.code === "SCOPE_NOT_HELD" && Array.isArray(beyond)
          ? insufficientScope(beyond.map(String))
          : useCaseProblem(result.error);
      }
      return reply.code(201).send({ ...toApiTokenJson(result.value.record), token: result.value.token });
    },
  );
}
