import type { TicketWebhookEvent, WebhookVerification } from "@keyturn/core";
import { z } from "zod";
import {
  header,
  readSignedJson,
  reject,
  type SignatureScheme,
  type WebhookInput,
} from "./webhook-signature.js";

// Linear signs each webhook with `Linear-Signature`: the HMAC-SHA256 hex of the raw body under the
// webhook's secret. The body's `webhookTimestamp` (ms) is signed with it, and Linear asks
// receivers to refuse deliveries more than a minute old, which stops a captured delivery from
// being replayed later. `Linear-Delivery` is returned as the delivery id.

/** Linear's documented freshness window for webhookTimestamp. */
export const LINEAR_WEBHOOK_TOLERANCE_MS = 60_000;

const Payload = z.object({
  action: z.string(),
  type: z.string(),
  webhookTimestamp: z.number().finite(),
  data: z
    .object({
      identifier: z.string().min(1).optional(),
      state: z.object({ name: z.string(), type: z.string() }).optional(),
    })
    .optional(),
});

const CLOSED_TYPES = new Set(["completed", "canceled"]);

const SIGNATURE: SignatureScheme = {
  header: "linear-signature",
  digest: (value) => value,
  missing: "no Linear-Signature header",
  mismatch: "Linear-Signature does not match the body",
};

export function verifyLinearWebhook(
  input: WebhookInput & { now: Date; toleranceMs?: number },
): WebhookVerification {
  const signed = readSignedJson(input, SIGNATURE);
  if (!("json" in signed)) {
    return signed;
  }
  const parsed = Payload.safeParse(signed.json);
  if (!parsed.success) {
    return reject(
      "malformed_body",
      "the signed body is not a Linear webhook payload (or has no webhookTimestamp)",
    );
  }
  const payload = parsed.data;
  const tolerance = input.toleranceMs ?? LINEAR_WEBHOOK_TOLERANCE_MS;
  const skew = Math.abs(input.now.getTime() - payload.webhookTimestamp);
  if (skew > tolerance) {
    return reject(
      "stale_timestamp",
      `webhookTimestamp is ${Math.round(skew / 1000)} s from now (at most ${tolerance / 1000} s)`,
    );
  }
  const identifier = payload.data?.identifier;
  if (payload.type !== "Issue" || identifier === undefined) {
    return { ok: true, event: null };
  }
  const deleted = payload.action === "remove";
  const state = payload.data?.state;
  const event: TicketWebhookEvent = {
    provider: "linear",
    key: identifier,
    closed: deleted || (state !== undefined && CLOSED_TYPES.has(state.type)),
    deleted,
    state:
      state === undefined
        ? null
        : { name: state.name, category: CLOSED_TYPES.has(state.type) ? "closed" : "open" },
    deliveryId: header(input.headers, "linear-delivery") ?? null,
    sentAt: new Date(payload.webhookTimestamp),
  };
  return { ok: true, event };
}
