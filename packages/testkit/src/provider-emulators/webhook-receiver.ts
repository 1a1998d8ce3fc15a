import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// A stand-in for Keyturn's webhook endpoint in emulator tests: it records each request's raw body
// and headers exactly as they arrived, so a test verifies signatures over the bytes on the wire.

export type ReceivedWebhook = { path: string; headers: Readonly<Record<string, string>>; body: Buffer };

export type WebhookReceiver = {
  url: string;
  received: ReceivedWebhook[];
  /** The status the receiver answers with; default 200. */
  respondWith(status: number): void;
  /** Runs `action` (which sends webhooks) and returns the first webhook that arrived during it. */
  capture(action: () => Promise<unknown>): Promise<ReceivedWebhook>;
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") {
          headers[name] = value;
        }
      }
      received.push({ path: req.url ?? "/", headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 400 ? "ok" : "refused");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    respondWith: (next) => {
      status = next;
    },
    capture: async (action) => {
      const before = received.length;
      await action();
      const first = received[before];
      if (first === undefined) {
        throw new Error("no webhook arrived");
      }
      return first;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
