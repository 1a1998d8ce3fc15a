import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { SlackCallLog } from "./call-log.js";
import { SlackApiError } from "./errors.js";
import { FaultQueue } from "./faults.js";
import { randomHex } from "./ids.js";
import { methods } from "./methods.js";
import { createSocketModeHub, type SocketModeHub } from "./socket-mode.js";
import type { JsonObject, SlackCall, SlackFake, SlackFakeOptions, SlackResponse } from "./types.js";
import { messageBlocks } from "./validate.js";
import { boolArg, header, isObject, parseRequest, readBody, sendJson, stringArg } from "./wire.js";
import { Workspace } from "./workspace.js";

// A fake Slack Web API on loopback for the real @slack/web-api client (through Bolt's
// `clientOptions.slackApiUrl`), plus the response URLs interactions carry.

const DEFAULT_TOKEN = "xoxb-keyturn-test-token";
const DEFAULT_APP_TOKEN = "xapp-1-A0KEYTURN-1-keyturn-test-app-token";
const DEFAULT_WAIT_MS = 5000;
const SCOPES = "chat:write,chat:write.public,commands,im:write,users:read,users:read.email,usergroups:read";

type Fake = {
  workspace: Workspace;
  log: SlackCallLog;
  faults: FaultQueue;
  botToken: string;
  socketMode: SocketModeHub;
};

function bearer(req: IncomingMessage): string | undefined {
  const authorization = header(req, "authorization");
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)$/i.exec(authorization);
  return match?.[1];
}

function errorBody(error: unknown): SlackResponse {
  if (error instanceof SlackApiError) {
    return error.messages.length === 0
      ? { ok: false, error: error.error }
      : { ok: false, error: error.error, response_metadata: { messages: [...error.messages] } };
  }
  // A bug in the fake: answer like Slack's own internal failure, with the detail for the test log.
  return { ok: false, error: "internal_error", detail: String(error) };
}

async function handleApi(
  fake: Fake,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  query: string,
) {
  const body = await readBody(req);
  const at = fake.workspace.now();
  const record = (call: Omit<SlackCall, "method" | "at">, headers: Record<string, string> = {}) => {
    fake.log.add({ method, at, ...call });
    sendJson(res, call.status, call.response, {
      "x-slack-req-id": randomHex(16),
      "x-oauth-scopes": SCOPES,
      ...headers,
    });
  };

  const parsed = parseRequest(header(req, "content-type"), query, body);
  if (!parsed.ok) {
    record({ args: {}, encoding: "query", status: 200, response: { ok: false, error: parsed.error } });
    return;
  }
  const { args, encoding } = parsed;
  // Socket Mode: only the app-level token opens connections, and it may call nothing else.
  const socketToken = bearer(req) ?? parsed.argToken;
  if (
    method === "apps.connections.open" ||
    (socketToken !== undefined && socketToken === fake.socketMode.appToken)
  ) {
    const opened =
      socketToken === undefined
        ? { error: "not_authed" }
        : method === "apps.connections.open"
          ? fake.socketMode.openConnection(socketToken)
          : { error: "not_allowed_token_type" };
    const response = "url" in opened ? { ok: true, url: opened.url } : { ok: false, error: opened.error };
    record({ args, encoding, status: 200, response });
    return;
  }
  const handler = methods[method];
  if (handler === undefined) {
    record({
      args,
      encoding,
      status: 200,
      response: { ok: false, error: "unknown_method", req_method: method },
    });
    return;
  }
  const token = bearer(req) ?? parsed.argToken;
  if (token === undefined) {
    record({ args, encoding, status: 200, response: { ok: false, error: "not_authed" } });
    return;
  }
  if (token !== fake.botToken) {
    record({ args, encoding, status: 200, response: { ok: false, error: "invalid_auth" } });
    return;
  }
  const fault = fake.faults.take(method);
  if (fault !== undefined) {
    record({ args, encoding, status: fault.status, response: fault.body }, fault.headers);
    return;
  }
  let response: SlackResponse;
  try {
    response = { ok: true, ...handler(args, fake.workspace) };
    if (parsed.missingCharset) {
      response.warning = "missing_charset";
      response.response_metadata = { warnings: ["missing_charset"] };
    }
  } catch (error) {
    response = errorBody(error);
  }
  record({ args, encoding, status: 200, response });
}

/**
 * Posts to a response URL: Slack turns them into an ephemeral reply (the default), a new message
 * (`response_type: in_channel`), or a change to the message the interaction came from.
 */
async function handleResponseUrl(
  fake: Fake,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  url: string,
) {
  const body = await readBody(req);
  const at = fake.workspace.now();
  const context = fake.workspace.responseUrl(path);
  let args: JsonObject = {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    args = isObject(parsed) ? parsed : {};
  } catch {
    args = {};
  }
  const base = { method: "response_url", at, args, encoding: "json" as const, responseUrl: url };
  if (context === undefined) {
    fake.log.add({ ...base, status: 404, response: { ok: false, error: "no_service" } });
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("no_service");
    return;
  }
  let response: SlackResponse = { ok: true };
  try {
    const content = {
      text: stringArg(args, "text") ?? "",
      blocks: messageBlocks(args.blocks),
      thread_ts: stringArg(args, "thread_ts"),
    };
    if (boolArg(args, "delete_original") && context.messageTs !== undefined) {
      fake.workspace.deleteMessage(context.channelId, context.messageTs);
    } else if (boolArg(args, "replace_original") && context.messageTs !== undefined) {
      fake.workspace.updateMessage(context.channelId, context.messageTs, {
        ...content,
        blocks: content.blocks ?? [],
      });
    } else if (stringArg(args, "response_type") === "in_channel") {
      fake.workspace.postMessage(context.channelId, content, true);
    } else {
      fake.workspace.postEphemeral(context.channelId, context.userId, content, "response_url");
    }
  } catch (error) {
    response = errorBody(error);
  }
  fake.log.add({ ...base, status: 200, response });
  sendJson(res, 200, response);
}

async function handle(fake: Fake, origin: string, req: IncomingMessage, res: ServerResponse) {
  const rawUrl = req.url ?? "/";
  const queryStart = rawUrl.indexOf("?");
  const path = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
  const query = queryStart < 0 ? "" : rawUrl.slice(queryStart + 1);
  if (path.startsWith("/api/")) {
    await handleApi(fake, req, res, decodeURIComponent(path.slice("/api/".length)), query);
    return;
  }
  if (path.startsWith("/hooks/") && req.method === "POST") {
    await handleResponseUrl(fake, req, res, path, `${origin}${path}`);
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("Not found: the fake Slack serves /api/<method> and response URLs under /hooks/");
}

export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const teamId = options.teamId ?? "T0KEYTURN";
  const workspace = new Workspace({
    teamId,
    teamName: options.teamName ?? "Keyturn",
    teamDomain: options.teamDomain ?? "keyturn",
    appId: options.appId ?? "A0KEYTURN",
    botId: options.botId ?? "B0KEYTURN",
    botUserId: options.botUserId ?? "U0KEYTURNBOT",
    botName: "keyturn",
    now: options.now ?? Date.now,
  });
  const server = createServer();
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
  const origin = `http://${urlHost}:${port}`;
  const fake: Fake = {
    workspace,
    log: new SlackCallLog(),
    faults: new FaultQueue(),
    botToken: options.botToken ?? DEFAULT_TOKEN,
    socketMode: createSocketModeHub({
      appToken: options.appToken ?? DEFAULT_APP_TOKEN,
      appId: workspace.config.appId,
      wsOrigin: `ws://${urlHost}:${port}`,
      fake: () => slackFake,
    }),
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handle(fake, origin, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, { ok: false, error: "internal_error", detail: String(error) });
      } else {
        res.destroy();
      }
    });
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!fake.socketMode.upgrade(req, socket, head)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
    }
  });

  const { config } = workspace;
  const slackFake: SlackFake = {
    url: `${origin}/api/`,
    origin,
    botToken: fake.botToken,
    teamId,
    teamDomain: config.teamDomain,
    appId: config.appId,
    botId: config.botId,
    botUserId: config.botUserId,
    addUser: (user) => workspace.addUser(user),
    addUserGroup: (group) => workspace.addUserGroup(group),
    addChannel: (channel) => workspace.addChannel(channel),
    user: (id) => workspace.user(id),
    channel: (id) => workspace.channel(id),
    dmChannelId: (userId) => workspace.openDm(userId).id,
    calls: (filter) => fake.log.list(filter),
    clearCalls: () => fake.log.clear(),
    waitForCall: (method, predicate = () => true, timeoutMs = DEFAULT_WAIT_MS) =>
      fake.log.waitFor(method, predicate, timeoutMs),
    messages: (channel) => workspace.messages(channel),
    ephemeralMessages: (channel) => workspace.ephemerals(channel),
    views: (userId) => workspace.modalViews(userId),
    homeViews: (userId) => workspace.homeViews(userId),
    newTriggerId: (userId) => workspace.issueTrigger(userId),
    newResponseUrl: (context) => `${origin}${workspace.issueResponseUrl(context)}`,
    failNext: (method, fault) => fake.faults.add(method, fault),
    socketMode: fake.socketMode,
    close: () =>
      new Promise<void>((resolve, reject) => {
        fake.log.rejectAll("the fake Slack was closed before the awaited call arrived");
        fake.socketMode.close();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // Bolt's HTTP client keeps connections alive; do not wait for them to time out.
        server.closeAllConnections();
      }),
  };
  return slackFake;
}
