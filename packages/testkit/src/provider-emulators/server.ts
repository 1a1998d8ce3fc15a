import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { FaultQueue, type ProviderFault } from "./faults.js";

// The loopback HTTP server under the PagerDuty, Jira and Linear emulators: it reads the request,
// applies a queued fault, asks the provider's protocol for the answer, records the call, and
// writes JSON. Protocols stay small and pure: no sockets, no fault plumbing.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type EmulatorRequest = {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case names, first value of repeated headers. */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
};

export type EmulatorResponse = {
  status: number;
  headers?: Readonly<Record<string, string>>;
  /** JSON to serialize, or `raw` text sent as is. */
  body: JsonValue | { raw: string; contentType: string };
};

export type ProviderProtocol = {
  /** The operation a request names ("GET /oncalls", "graphql", ...), for faults and the call log. */
  operation(req: EmulatorRequest): string;
  handle(req: EmulatorRequest, operation: string): EmulatorResponse | Promise<EmulatorResponse>;
  /** The provider's own shape for its rate-limit and 5xx answers. */
  renderFault(fault: Extract<ProviderFault, { kind: "rate-limit" | "server-error" }>): EmulatorResponse;
};

export type ProviderCall = {
  operation: string;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Readonly<Record<string, string>>;
  body: string;
  /** The status sent, or what happened instead of an answer. */
  outcome: number | "hung" | "truncated" | "disconnected";
  at: number;
};

export type ProviderServer = {
  origin: string;
  calls(operation?: string): ProviderCall[];
  clearCalls(): void;
  /** The next `times` (default 1) calls of `operation` ("*": any) get `fault`. */
  failNext(operation: string, fault: ProviderFault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
};

export type ProviderServerOptions = { host?: string; port?: number; now: () => number };

/** What every provider emulator offers a test besides its own state: calls, faults, close. */
export type ProviderControls<Operation extends string> = {
  calls(operation?: Operation): ProviderCall[];
  clearCalls(): void;
  /** The next `times` (default 1) calls of `operation` ("*": any) get `fault`. */
  failNext(operation: Operation | "*", fault: ProviderFault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
};

export function providerControls<Operation extends string>(
  server: ProviderServer,
): ProviderControls<Operation> {
  return {
    calls: (operation) => server.calls(operation),
    clearCalls: () => server.clearCalls(),
    failNext: (operation, fault, times) => server.failNext(operation, fault, times),
    clearFaults: () => server.clearFaults(),
    close: () => server.close(),
  };
}

/** Host and port as the emulator options carry them (each optional). */
export function listenOptions(options: { host?: string; port?: number }): { host?: string; port?: number } {
  return {
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  };
}

/** Headers, lower-cased, first value only. */
function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) {
      out[name.toLowerCase()] = first;
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

function serialize(response: EmulatorResponse): { text: string; contentType: string } {
  const { body } = response;
  if (body !== null && typeof body === "object" && !Array.isArray(body) && "raw" in body) {
    return { text: String(body.raw), contentType: String(body.contentType) };
  }
  return { text: JSON.stringify(body), contentType: "application/json; charset=utf-8" };
}

function write(res: ServerResponse, response: EmulatorResponse): void {
  const { text, contentType } = serialize(response);
  res.writeHead(response.status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    ...response.headers,
  });
  res.end(text);
}

export async function startProviderServer(
  protocol: ProviderProtocol,
  options: ProviderServerOptions,
): Promise<ProviderServer> {
  const faults = new FaultQueue();
  const log: ProviderCall[] = [];
  let closed = false;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const body = await readBody(req);
    const request: EmulatorRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: flatHeaders(req),
      body,
    };
    const operation = protocol.operation(request);
    const record = (outcome: ProviderCall["outcome"]) =>
      log.push({
        operation,
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: body.toString("utf8"),
        outcome,
        at: options.now(),
      });

    let fault = faults.take(operation);
    if (fault?.kind === "latency") {
      await sleep(fault.ms);
      fault = undefined;
      if (closed) {
        return;
      }
    }
    switch (fault?.kind) {
      case "hang":
        record("hung");
        return;
      case "disconnect":
        record("disconnected");
        req.socket.destroy();
        return;
      case "malformed":
        record(200);
        write(res, { status: 200, body: { raw: '{"broken": [1, 2,', contentType: "application/json" } });
        return;
      case "rate-limit":
      case "server-error": {
        const answer = protocol.renderFault(fault);
        record(answer.status);
        write(res, answer);
        return;
      }
      case "status":
        record(fault.status);
        write(res, {
          status: fault.status,
          headers: fault.headers ?? {},
          body: { raw: fault.body, contentType: "application/json; charset=utf-8" },
        });
        return;
      default:
        break;
    }

    const answer = await protocol.handle(request, operation);
    if (fault?.kind === "truncated") {
      record("truncated");
      const { text, contentType } = serialize(answer);
      res.writeHead(answer.status, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(text),
        ...answer.headers,
      });
      // Half of what was promised, then the connection is cut: the client sees a broken body.
      res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
      return;
    }
    record(answer.status);
    write(res, answer);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      // A bug in the emulator: answer 500 with the detail so the test log shows it.
      if (!res.headersSent) {
        write(res, { status: 500, body: { emulatorError: String(error) } });
      } else {
        res.destroy();
      }
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

  return {
    origin: `http://${urlHost}:${port}`,
    calls: (operation) => log.filter((call) => operation === undefined || call.operation === operation),
    clearCalls: () => {
      log.length = 0;
    },
    failNext: (operation, fault, times) => faults.add(operation, fault, times),
    clearFaults: () => faults.clear(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closed = true;
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // Hung requests and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
