import { redeemCliSignIn } from "@keyturn/usecases";
import { z } from "zod";
import { useCaseProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";
import { ApiTokenSchema, toApiTokenJson } from "../../schemas/api-token.js";

// In the body, not the URL: a handle must not land in access logs.
const PollSignInBodySchema = z.strictObject({
  handle: z.string().regex(/^kts_[A-Za-z0-9_-]{43}$/, "must be the handle POST /v1/cli/sign-ins answered"),
});

const CliSignInPollSchema = z
  .discriminatedUnion("status", [
    z.object({ status: z.literal("pending"), expiresAt: z.string() }),
    z.object({
      status: z.literal("approved"),
      token: z.string().meta({ description: "The person's token. Answered once; Keyturn keeps its hash" }),
      tokenInfo: ApiTokenSchema,
    }),
  ])
  .meta({ id: "CliSignInPoll" });

export function registerPollSignIn(app: App, deps: RouteDeps): void {
  app.post(
    "/cli/sign-ins/poll",
    {
      schema: {
        tags: ["sign-ins"],
        security: [],
        summary: "Poll a `keyturn login`: pending, or the person's token (once)",
        description:
          "No token needed: the handle is the secret. `pending` until the person answers in Slack; " +
          "then, once, `approved` with a person token (requests:read and requests:write, 12 hours, " +
          "audited as signin.redeemed and token.created). Rejected: 403 SIGN_IN_REJECTED. Not " +
          "answered in time: 410 SIGN_IN_EXPIRED. Token already collected: 410 SIGN_IN_REDEEMED. " +
          "Unknown handle: 404 SIGN_IN_NOT_FOUND.",
        body: PollSignInBodySchema,
        response: { 200: CliSignInPollSchema },
      },
    },
    async (request) => {
      const result = await redeemCliSignIn(deps.usecases, { handle: request.body.handle });
      if (!result.ok) {
        throw useCaseProblem(result.error);
      }
      const poll = result.value;
      return poll.status === "pending"
        ? { status: poll.status, expiresAt: poll.expiresAt.toISOString() }
        : { status: poll.status, token: poll.token, tokenInfo: toApiTokenJson(poll.record) };
    },
  );
}
