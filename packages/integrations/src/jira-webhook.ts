import type { TicketWebhookEvent, WebhookVerification } from "@keyturn/core";
import { z } from "zod";
import {
  header,
  readSignedJson,
  reject,
  type SignatureScheme,
  type WebhookInput,
} from "./webhook-signature.js";

// Jira admin webhooks registered with a secret carry `X-Hub-Signature: sha256=<hex>`, the
// HMAC-SHA256 of the raw body (WebSub's method=signature form). Jira documents no timestamp
// tolerance for them, so none is imposed here; `X-Atlassian-Webhook-Identifier` is returned as
// the delivery id (unchanged across Jira's retries) for recognising repeats. A verified event only
// says a ticket changed: acting on it is for the caller, who should re-read the ticket.

const Status = z.object({ name: z.string(), statusCategory: z.object({ key: z.string() }) });
const Payload = z.object({
  webhookEvent: z.string(),
  timestamp: z.number().optional(),
  issue: z
    .object({
      key: z.string().min(1),
      fields: z.object({ status: Status.optional() }).optional(),
    })
    .optional(),
});

const ISSUE_EVENTS = new Set(["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]);

const SIGNATURE: SignatureScheme = {
  header: "x-hub-signature",
  // "sha256=<hex>"; any other method is refused.
  digest: (value) => (value.startsWith("sha256=") ? value.slice("sha256=".length) : undefined),
  missing: "no X-Hub-Signature header: is the webhook registered with a secret?",
  mismatch: "X-Hub-Signature does not match the body",
};

export function verifyJiraWebhook(input: WebhookInput): WebhookVerification {
  const signed = readSignedJson(input, SIGNATURE);
  if (!("json" in signed)) {
    return signed;
  }
  const parsed = Payload.safeParse(signed.json);
  if (!parsed.success) {
    return reject("malformed_body", "the signed body is not a Jira webhook payload");
  }
  const payload = parsed.data;
  if (!ISSUE_EVENTS.has(payload.webhookEvent) || payload.issue === undefined) {
    return { ok: true, event: null };
  }
  const deleted = payload.webhookEvent === "jira:issue_deleted";
  const status = payload.issue.fields?.status;
  const category = status?.statusCategory.key;
  const event: TicketWebhookEvent = {
    provider: "jira",
    key: payload.issue.key,
    closed: deleted || category === "done",
    deleted,
    state:
      status === undefined ? null : { name: status.name, category: category === "done" ? "closed" : "open" },
    deliveryId: header(input.headers, "x-atlassian-webhook-identifier") ?? null,
    sentAt: payload.timestamp === undefined ? null : new Date(payload.timestamp),
  };
  return { ok: true, event };
}
