import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import {
  type BlockActionInput,
  SlackInteractionBuilder,
  type SlashCommandInput,
  type ViewSubmissionInput,
} from "./interaction-builder.js";
import type { JsonObject, SlackFake } from "./types.js";
import { isObject } from "./wire.js";

// Slack's Socket Mode on loopback: the app calls apps.connections.open with its app-level token,
// gets a one-time ws:// URL, dials it, and is greeted with `hello`. Slack then sends each slash
// command or interaction as an envelope `{envelope_id, type, payload, accepts_response_payload}`
// and waits for the app to answer `{envelope_id, payload?}` (the ack, within 3 s); `disconnect`
// asks the app to reconnect. Envelope and message shapes follow Slack's Socket Mode guide.

const HELLO_HOST = "applink-keyturn-fake";
const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export type SocketModeEnvelopeType = "slash_commands" | "interactive" | "events_api";

export type SocketModeAck = {
  envelopeId: string;
  /** What the app put in its ack (a slash command's immediate reply, a view's response_action). */
  payload: JsonObject | undefined;
  /** From sending the envelope to receiving its ack. */
  latencyMs: number;
};

export type SocketModeServer = {
  /** The app-level token apps.connections.open accepts (`xapp-...`). */
  readonly appToken: string;
  /** Open connections (Slack allows an app up to 10). */
  connections(): number;
  /** Resolves once the `count`-th connection since the start has been greeted with `hello`. */
  waitForConnections(count?: number, timeoutMs?: number): Promise<void>;
  /** Connections greeted since the start, open or not. */
  connectionsOpened(): number;
  /** Sends a slash command as Slack does in Socket Mode and resolves with the app's ack. */
  slashCommand(input: SlashCommandInput, options?: EnvelopeOptions): Promise<SocketModeAck>;
  blockAction(input: BlockActionInput, options?: EnvelopeOptions): Promise<SocketModeAck>;
  viewSubmission(input: ViewSubmissionInput, options?: EnvelopeOptions): Promise<SocketModeAck>;
  /** Any envelope; resolves with its ack, rejects when none comes within the timeout. */
  send(type: SocketModeEnvelopeType, payload: JsonObject, options?: EnvelopeOptions): Promise<SocketModeAck>;
  /** Asks every connected app to reconnect, as Slack does before recycling a server. */
  disconnectAll(reason?: "warning" | "refresh_requested" | "link_disabled"): void;
};

export type EnvelopeOptions = {
  /** A redelivery, as `retry_attempt` / `retry_reason` say. */
  retryAttempt?: number;
  retryReason?: string;
  ackTimeoutMs?: number;
};

export type SocketModeHub = SocketModeServer & {
  /** The answer to apps.connections.open for a token, or the Slack error to answer instead. */
  openConnection(token: string): { url: string } | { error: string };
  /** Takes over an HTTP upgrade of /link/; false when it is not one of ours. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
};

type Pending = {
  resolve: (ack: SocketModeAck) => void;
  reject: (error: Error) => void;
  sentAt: number;
  timer: NodeJS.Timeout;
};

export function createSocketModeHub(options: {
  appToken: string;
  appId: string;
  /** ws://host:port of the fake's HTTP server. */
  wsOrigin: string;
  fake: () => SlackFake;
}): SocketModeHub {
  const wss = new WebSocketServer({ noServer: true });
  const tickets = new Set<string>();
  const open: WebSocket[] = [];
  let opened = 0;
  const pending = new Map<string, Pending>();
  const connectionWaiters: Array<{ count: number; resolve: () => void }> = [];
  let builder: SlackInteractionBuilder | undefined;
  const build = () => {
    builder ??= new SlackInteractionBuilder({ fake: options.fake() });
    return builder;
  };

  const notifyConnections = () => {
    for (const waiter of [...connectionWaiters]) {
      if (opened >= waiter.count) {
        connectionWaiters.splice(connectionWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  const onMessage = (data: unknown) => {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!isObject(message) || typeof message.envelope_id !== "string") {
      return;
    }
    const waiting = pending.get(message.envelope_id);
    if (waiting === undefined) {
      return;
    }
    pending.delete(message.envelope_id);
    clearTimeout(waiting.timer);
    waiting.resolve({
      envelopeId: message.envelope_id,
      payload: isObject(message.payload) ? message.payload : undefined,
      latencyMs: performance.now() - waiting.sentAt,
    });
  };

  const send: SocketModeServer["send"] = (type, payload, envelope = {}) => {
    const socket = open.at(-1);
    if (socket === undefined) {
      return Promise.reject(new Error("no app is connected over Socket Mode"));
    }
    const envelopeId = randomUUID();
    const message = {
      envelope_id: envelopeId,
      type,
      payload,
      // Slack takes a response in the ack for commands and view submissions, not for clicks.
      accepts_response_payload:
        type === "slash_commands" || (type === "interactive" && payload.type === "view_submission"),
      ...(envelope.retryAttempt === undefined
        ? {}
        : { retry_attempt: envelope.retryAttempt, retry_reason: envelope.retryReason ?? "timeout" }),
    };
    return new Promise<SocketModeAck>((resolve, reject) => {
      const timeoutMs = envelope.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
      const timer = setTimeout(() => {
        pending.delete(envelopeId);
        reject(new Error(`no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(envelopeId, { resolve, reject, sentAt: performance.now(), timer });
      socket.send(JSON.stringify(message));
    });
  };

  return {
    appToken: options.appToken,
    connections: () => open.length,
    connectionsOpened: () => opened,
    waitForConnections: (count = 1, timeoutMs = DEFAULT_ACK_TIMEOUT_MS) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`fewer than ${count} Socket Mode connection(s) after ${timeoutMs} ms`)),
          timeoutMs,
        );
        connectionWaiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        notifyConnections();
      }),
    slashCommand: (input, envelope) =>
      send("slash_commands", Object.fromEntries(build().slashCommand(input)), envelope),
    blockAction: (input, envelope) => send("interactive", build().blockAction(input), envelope),
    viewSubmission: (input, envelope) => send("interactive", build().viewSubmission(input), envelope),
    send,
    disconnectAll(reason = "refresh_requested") {
      for (const socket of open) {
        socket.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: HELLO_HOST } }));
      }
    },
    openConnection(token) {
      if (token !== options.appToken) {
        // A bot or user token may not open connections; anything else is not a token at all.
        return { error: token.startsWith("xox") ? "not_allowed_token_type" : "invalid_auth" };
      }
      const ticket = randomUUID();
      tickets.add(ticket);
      return { url: `${options.wsOrigin}/link/?ticket=${ticket}&app_id=${options.appId}` };
    },
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? "/", "http://fake");
      if (url.pathname !== "/link/") {
        return false;
      }
      const ticket = url.searchParams.get("ticket") ?? "";
      // A URL from apps.connections.open is good for one connection.
      if (!tickets.delete(ticket)) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        open.push(ws);
        opened++;
        ws.on("message", onMessage);
        ws.on("close", () => {
          open.splice(open.indexOf(ws), 1);
        });
        ws.send(
          JSON.stringify({
            type: "hello",
            num_connections: open.length,
            debug_info: { host: HELLO_HOST, build_number: 1, approximate_connection_time: 18060 },
            connection_info: { app_id: options.appId },
          }),
        );
        notifyConnections();
      });
      return true;
    },
    close() {
      for (const waiting of pending.values()) {
        clearTimeout(waiting.timer);
        waiting.reject(new Error("the fake Slack was closed before the app acknowledged"));
      }
      pending.clear();
      for (const socket of open) {
        socket.terminate();
      }
      wss.close();
    },
  };
}
