import { createHmac } from "node:crypto";

// Outgoing webhooks of an emulated provider: subscriptions, the signed POST, a record of every
// delivery, deliveries a test makes go missing (the provider lost them), and redelivery of one
// (a provider's retry carries the same body and delivery id).

export type WebhookSubscriptionInput = {
  url: string;
  /** Signs each delivery; without one the provider sends no signature header. */
  secret?: string;
};

export type WebhookDelivery = {
  deliveryId: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  /** The exact bytes sent (what the receiver verifies). */
  body: string;
  /** The receiver's status, `dropped` when a test made it go missing, `error` when it never answered. */
  outcome: number | "dropped" | "error";
  error?: string;
  attempt: number;
  at: number;
};

export type WebhookHeaderBuilder = (input: {
  body: string;
  secret: string | undefined;
  deliveryId: string;
  attempt: number;
}) => Record<string, string>;

const DELIVERY_TIMEOUT_MS = 10_000;

/** HMAC-SHA256 of the raw body, lower-case hex: what Jira and Linear both sign with. */
export function hmacSha256Hex(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

export class WebhookSender {
  readonly #subscriptions: WebhookSubscriptionInput[] = [];
  readonly #deliveries: WebhookDelivery[] = [];
  readonly #now: () => number;
  readonly #headers: WebhookHeaderBuilder;
  #toDrop = 0;

  constructor(now: () => number, headers: WebhookHeaderBuilder) {
    this.#now = now;
    this.#headers = headers;
  }

  subscribe(input: WebhookSubscriptionInput): void {
    this.#subscriptions.push(input.secret === undefined ? { url: input.url } : { ...input });
  }

  /** The next `times` deliveries are lost: recorded as dropped, never sent. */
  dropNext(times = 1): void {
    this.#toDrop += times;
  }

  deliveries(): WebhookDelivery[] {
    return [...this.#deliveries];
  }

  /** Sends `body` to every subscription; resolves when each has answered or failed. */
  async send(body: string, deliveryIdFor: () => string): Promise<WebhookDelivery[]> {
    return Promise.all(
      this.#subscriptions.map((subscription) =>
        this.#post(subscription.url, subscription.secret, body, deliveryIdFor(), 1),
      ),
    );
  }

  /**
   * Sends a recorded delivery again, as the provider's retry would: same delivery id, and the same
   * body unless `rewrite` renews it (Linear stamps each attempt with a fresh webhookTimestamp).
   */
  async redeliver(
    deliveryId: string,
    rewrite: (body: string) => string = (body) => body,
  ): Promise<WebhookDelivery> {
    const previous = this.#deliveries.filter((d) => d.deliveryId === deliveryId);
    const last = previous.at(-1);
    if (last === undefined) {
      throw new Error(`no delivery ${deliveryId} to redeliver`);
    }
    const secret = this.#subscriptions.find((s) => s.url === last.url)?.secret;
    return this.#post(last.url, secret, rewrite(last.body), deliveryId, last.attempt + 1);
  }

  async #post(
    url: string,
    secret: string | undefined,
    body: string,
    deliveryId: string,
    attempt: number,
  ): Promise<WebhookDelivery> {
    const headers = {
      "content-type": "application/json; charset=utf-8",
      ...this.#headers({ body, secret, deliveryId, attempt }),
    };
    const base = { deliveryId, url, headers, body, attempt, at: this.#now() };
    if (this.#toDrop > 0) {
      this.#toDrop--;
      const dropped: WebhookDelivery = { ...base, outcome: "dropped" };
      this.#deliveries.push(dropped);
      return dropped;
    }
    let delivery: WebhookDelivery;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      delivery = { ...base, outcome: response.status };
    } catch (error) {
      delivery = { ...base, outcome: "error", error: String(error) };
    }
    this.#deliveries.push(delivery);
    return delivery;
  }
}

/** What an emulator that sends webhooks offers a test. */
export type WebhookControls = {
  subscribeWebhook(input: WebhookSubscriptionInput): void;
  /** The next `times` webhooks are lost (never sent). */
  dropNextWebhooks(times?: number): void;
  webhookDeliveries(): WebhookDelivery[];
  /** The provider's retry of a delivery (same delivery id). */
  redeliverWebhook(deliveryId: string): Promise<WebhookDelivery>;
};

export function webhookControls(sender: WebhookSender, rewrite?: (body: string) => string): WebhookControls {
  return {
    subscribeWebhook: (input) => sender.subscribe(input),
    dropNextWebhooks: (times) => sender.dropNext(times),
    webhookDeliveries: () => sender.deliveries(),
    redeliverWebhook: (deliveryId) => sender.redeliver(deliveryId, rewrite),
  };
}
