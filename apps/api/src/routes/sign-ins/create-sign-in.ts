import { createCliSignIn } from "@keyturn/usecases";
import { z } from "zod";
import { useCaseProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";

/** How often the CLI is asked to poll; it is told, so the server can slow everyone down. */
const SIGN_IN_POLL_SECONDS = 2;

const CreateSignInBodySchema = z
  .strictObject({
    email: z.email("must be the person's email").max(254).exactOptional(),
    slackUserId: z
      .string()
      .regex(/^[UW][A-Z0-9]{2,20}$/, "must be a Slack user id such as U0123ABCD")
      .exactOptional(),
    host: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[\p{L}\p{N}._@:-]+$/u, "must be a host name (letters, digits and '._@:-')"),
  })
  .refine((body) => (body.email === undefined) !== (body.slackUserId === undefined), {
    message: "give exactly one of email and slackUserId",
    path: ["email"],
  });

const CliSignInStartedSchema = z
  .object({
    id: z.string(),
    code: z.string().meta({ description: "Shown in the terminal and in the Slack DM, to compare" }),
    handle: z.string().meta({ description: "Secret: poll with it. Only the caller ever knows it" }),
    expiresAt: z.string(),
    pollIntervalSeconds: z.number().int(),
  })
  .meta({ id: "CliSignInStarted" });

/** Unauthenticated (rate-limited per address): asking only makes Slack ask the person. */
export function registerCreateSignIn(app: App, deps: RouteDeps): void {
  app.post(
    "/cli/sign-ins",
    {
      schema: {
        tags: ["sign-ins"],
        security: [],
        summary: "Start a `keyturn login`: Keyturn asks the person in Slack to approve it",
        description:
          "No token needed. Keyturn DMs the person (by email or Slack user id) in Slack: " +
          '"Sign in to the Keyturn CLI on <host>? code WXYZ-1234", Approve / Reject. Poll ' +
          "POST /v1/cli/sign-ins/poll with the handle; once the person approves, the poll answers " +
          "their token once. The sign-in expires after 5 minutes. Audited as signin.requested.",
        body: CreateSignInBodySchema,
        response: { 201: CliSignInStartedSchema },
      },
    },
    async (request, reply) => {
      const { email, slackUserId, host } = request.body;
      const result = await createCliSignIn(deps.usecases, {
        host,
        ...(email === undefined ? {} : { email }),
        ...(slackUserId === undefined ? {} : { slackUserId }),
      });
      if (!result.ok) {
        throw useCaseProblem(result.error);
      }
      const started = result.value;
      return reply.code(201).send({
        id: started.id,
        code: started.code,
        handle: started.handle,
        expiresAt: started.expiresAt.toISOString(),
        pollIntervalSeconds: SIGN_IN_POLL_SECONDS,
      });
    },
  );
}
