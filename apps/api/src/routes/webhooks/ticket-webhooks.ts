import type { WebhookRejection, WebhookVerification } from "@keyturn/core";
import { verifyJiraWebhook, verifyLinearWebhook } from "@keyturn/integrations";
import { endAccessForClosedTicketEvent } from "@keyturn/usecases";
import { z } from "zod";
import { HttpProblem, useCaseProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";

/** The secrets each provider signs its deliveries with; a provider without one has no route. */
export type TicketWebhookSecrets = { jira?: string; linear?: string };

const WebhookAnswerSchema = z.object({
  ended: z.array(z.uuid()).meta({ description: "The requests whose access this delivery ended" }),
  ignored: z
    .enum(["not_a_close", "reopened"])
    .optional()
    .meta({ description: "Why nothing ended: the event is not a close, or the ticket is open again" }),
});

const REJECTION_CODE: Readonly<
  Record<WebhookRejection, "UNAUTHENTICATED" | "VALIDATION_FAILED" | "PAYLOAD_TOO_LARGE">
> = {
  missing_signature: "UNAUTHENTICATED",
  bad_signature: "UNAUTHENTICATED",
  stale_timestamp: "UNAUTHENTICATED",
  malformed_body: "VALIDATION_FAILED",
  body_too_large: "PAYLOAD_TOO_LARGE",
};

/**
 * POST /v1/webhooks/jira and /v1/webhooks/linear: a ticket closing ends the access bound to it.
 * Authenticated by the provider's signature over the raw body (no API token), so they live in a
 * context of their own where the body stays bytes: a bad or missing signature answers 401 before
 * the body is read as JSON, and changes nothing.
 */
export async function registerTicketWebhooks(
  app: App,
  deps: RouteDeps & { secrets: TicketWebhookSecrets },
): Promise<void> {
  await app.register(
    async (hooks) => {
      hooks.removeContentTypeParser("application/json");
      hooks.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
        done(null, body);
      });
      const route = (
        provider: "jira" | "linear",
        secret: string | undefined,
        verify: (
          rawBody: Buffer,
          headers: Record<string, string | string[] | undefined>,
        ) => WebhookVerification,
      ) => {
        hooks.post(
          `/${provider}`,
          {
            schema: {
              tags: ["webhooks"],
              summary: `${provider === "jira" ? "Jira" : "Linear"} issue events, signed by the provider: a closed ticket ends the access bound to it`,
              response: { 200: WebhookAnswerSchema },
            },
          },
          async (request) => {
            if (secret === undefined) {
              throw new HttpProblem(
                "NOT_FOUND",
                `no ${provider} webhook secret is configured on this Keyturn`,
              );
            }
            const body = request.body;
            if (!Buffer.isBuffer(body)) {
              throw new HttpProblem(
                "UNSUPPORTED_MEDIA_TYPE",
                "send the provider's JSON body (application/json)",
              );
            }
            const verified = verify(body, request.headers);
            if (!verified.ok) {
              request.log.warn({ provider, reason: verified.reason }, "ticket webhook refused");
              throw new HttpProblem(REJECTION_CODE[verified.reason], verified.message);
            }
            const event = verified.event;
            if (event === null || !(event.closed || event.deleted)) {
              return { ended: [], ignored: "not_a_close" as const };
            }
            const result = await endAccessForClosedTicketEvent(deps.usecases, {
              provider,
              key: event.key,
              state: event.deleted ? "deleted" : (event.state?.name ?? "closed"),
            });
            if (!result.ok) {
              throw useCaseProblem(result.error);
            }
            return {
              ended: result.value.ended.map((r) => r.id),
              ...(result.value.reopened ? { ignored: "reopened" as const } : {}),
            };
          },
        );
      };
      route("jira", deps.secrets.jira, (rawBody, headers) =>
        verifyJiraWebhook({ rawBody, headers, secret: deps.secrets.jira ?? "" }),
      );
      route("linear", deps.secrets.linear, (rawBody, headers) =>
        verifyLinearWebhook({ rawBody, headers, secret: deps.secrets.linear ?? "", now: deps.clock.now() }),
      );
    },
    { prefix: "/v1/webhooks" },
  );
}
