import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export type HealthChecks = {
  /** The process is doing its job (its loops run); a failing liveness check means "restart me". */
  live(): boolean;
  /** Its dependencies answer; a failing readiness check means "do not count on me now". */
  ready(): Promise<Record<string, boolean>>;
};

/** /healthz, /readyz and /metrics for a process that has no HTTP API of its own. */
export async function startHealthServer(input: {
  host: string;
  port: number;
  checks: HealthChecks;
  registry: Registry;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    void (async () => {
      try {
        if (req.url === "/healthz") {
          const live = input.checks.live();
          send(live ? 200 : 503, { status: live ? "ok" : "stalled" });
        } else if (req.url === "/readyz") {
          const checks = await input.checks.ready();
          const ok = Object.values(checks).every(Boolean);
          send(ok ? 200 : 503, { status: ok ? "ready" : "unavailable", checks });
        } else if (req.url === "/metrics") {
          send(200, await input.registry.metrics(), input.registry.contentType);
        } else {
          send(404, { status: "not found" });
        }
      } catch {
        send(500, { status: "error" });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(input.port, input.host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : input.port;
  return {
    server,
    url: `http://${input.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
