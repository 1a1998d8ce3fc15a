import { randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./admin.js";
import { type EmulatorContext, performCall } from "./call.js";
import { CallLog, maxCallsInAnyWindow } from "./call-log.js";
import { FaultController } from "./faults.js";
import { identityStoreOperations } from "./identity-store.js";
import { createRandom } from "./random.js";
import { executeS3, routeS3 } from "./s3.js";
import { ssoAdminOperations } from "./sso-admin.js";
import { OidcState, oidcOperation, oidcOperations } from "./sso-oidc.js";
import { portalOperation, portalOperations } from "./sso-portal.js";
import { EmulatorState } from "./state.js";
import { getCallerIdentity, isStsRequest, stsError, stsOperation, stsResponse } from "./sts.js";
import type { AwsEmulator, AwsEmulatorOptions, ServiceName } from "./types.js";
import {
  AwsError,
  decodeAwsChunked,
  escapeXml,
  isObject,
  type JsonObject,
  readBody,
  send,
  XML_DECLARATION,
  xmlElement,
} from "./wire.js";

// One HTTP server for every emulated service. Requests are told apart the way the SDK sends them:
// awsJson1_1 by X-Amz-Target, the SSO portal by its paths and bearer-token header, admin routes
// by /_emulator/, and everything else is S3 (path style).

const JSON_SERVICES: Readonly<Record<string, ServiceName>> = {
  SWBExternalService: "sso-admin",
  AWSIdentityStore: "identitystore",
};

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function handleJsonRpc(ctx: EmulatorContext, target: string, body: Buffer, res: ServerResponse) {
  const dot = target.indexOf(".");
  const service = JSON_SERVICES[target.slice(0, dot)];
  const operation = target.slice(dot + 1);
  const requestId = ctx.state.ids.uuid();
  const contentType = "application/x-amz-json-1.1";
  const renderError = (error: AwsError, withRequestId: boolean): void => {
    send(
      res,
      error.status,
      { "content-type": contentType, "x-amzn-RequestId": requestId, "x-amzn-ErrorType": error.code },
      JSON.stringify({
        __type: error.code,
        Message: error.message,
        ...error.fields,
        ...(withRequestId ? { RequestId: requestId } : {}),
      }),
    );
  };
  if (dot < 0 || service === undefined) {
    renderError(new AwsError("UnknownOperationException", `Unknown target ${target}`), false);
    return;
  }
  let input: JsonObject | undefined;
  try {
    const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    input = isObject(parsed) ? parsed : undefined;
  } catch {
    input = undefined;
  }
  const operations = service === "sso-admin" ? ssoAdminOperations : identityStoreOperations;
  const result = await performCall(ctx, { service, operation, input: input ?? {} }, requestId, () => {
    const handler = operations[operation];
    if (handler === undefined) {
      throw new AwsError("UnknownOperationException", `Operation ${operation} is not supported.`);
    }
    if (input === undefined) {
      throw new AwsError("SerializationException", "The request body is not a JSON object.");
    }
    return handler(input, ctx);
  });
  if (result.ok) {
    send(
      res,
      200,
      { "content-type": contentType, "x-amzn-RequestId": requestId },
      JSON.stringify(result.value),
    );
  } else {
    // Identity Store errors carry RequestId as a member; SSO Admin ones do not.
    renderError(result.error, service === "identitystore");
  }
}

async function handlePortal(
  ctx: EmulatorContext,
  req: IncomingMessage,
  operation: string,
  query: URLSearchParams,
  res: ServerResponse,
) {
  const requestId = ctx.state.ids.uuid();
  const input = {
    roleName: query.get("role_name") ?? undefined,
    accountId: query.get("account_id") ?? undefined,
  };
  const result = await performCall(ctx, { service: "sso-portal", operation, input }, requestId, () => {
    const handler = portalOperations[operation];
    if (handler === undefined) {
      throw new AwsError("InvalidRequestException", `Unknown operation ${operation}`);
    }
    return handler({ query, accessToken: header(req, "x-amz-sso_bearer_token") }, ctx);
  });
  if (result.ok) {
    send(
      res,
      200,
      { "content-type": "application/json", "x-amzn-RequestId": requestId },
      JSON.stringify(result.value),
    );
    return;
  }
  send(
    res,
    result.error.status,
    {
      "content-type": "application/json",
      "x-amzn-RequestId": requestId,
      "x-amzn-ErrorType": result.error.code,
    },
    JSON.stringify({ message: result.error.message }),
  );
}

async function handleOidc(
  ctx: EmulatorContext,
  oidc: OidcState,
  operation: string,
  body: Buffer,
  res: ServerResponse,
) {
  const requestId = ctx.state.ids.uuid();
  let input: JsonObject | undefined;
  try {
    const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    input = isObject(parsed) ? parsed : undefined;
  } catch {
    input = undefined;
  }
  // Never the secrets (client secret, device code) in the call log.
  const logged = { clientName: typeof input?.clientName === "string" ? input.clientName : undefined };
  const result = await performCall(ctx, { service: "sso-oidc", operation, input: logged }, requestId, () => {
    const handler = oidcOperations[operation];
    if (handler === undefined || input === undefined) {
      throw new AwsError("InvalidRequestException", "The request body is not a JSON object.", {
        fields: { error: "invalid_request", error_description: "The request body is not a JSON object." },
      });
    }
    return handler(input, ctx, oidc);
  });
  const headers = { "content-type": "application/json", "x-amzn-RequestId": requestId };
  if (result.ok) {
    send(res, 200, headers, JSON.stringify(result.value));
    return;
  }
  const { error } = result;
  send(
    res,
    error.status,
    { ...headers, "x-amzn-ErrorType": error.code },
    JSON.stringify({ error: error.code, error_description: error.message, ...error.fields }),
  );
}

/**
 * aws:SourceIp as S3 would see it: the peer's address, IPv4 or IPv6 (::1 on an IPv6 loopback). A
 * dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; S3 sees those as plain IPv4.
 */
function sourceIpOf(req: IncomingMessage): string | undefined {
  const address = req.socket.remoteAddress;
  return address?.startsWith("::ffff:") === true && address.includes(".") ? address.slice(7) : address;
}

async function handleSts(ctx: EmulatorContext, req: IncomingMessage, body: Buffer, res: ServerResponse) {
  const requestId = ctx.state.ids.uuid();
  const operation = stsOperation(body) ?? "";
  const accessKeyId = /Credential=([^/,\s]+)\//.exec(header(req, "authorization") ?? "")?.[1];
  const result = await performCall(ctx, { service: "sts", operation, input: {} }, requestId, () => {
    if (operation !== "GetCallerIdentity") {
      throw new AwsError("InvalidAction", `Could not find operation ${operation} for version 2011-06-15`);
    }
    return getCallerIdentity(ctx, accessKeyId);
  });
  if (result.ok) {
    send(
      res,
      200,
      { "content-type": "text/xml", "x-amzn-RequestId": requestId },
      stsResponse(operation, result.value, requestId),
    );
  } else {
    send(
      res,
      result.error.status,
      { "content-type": "text/xml", "x-amzn-RequestId": requestId },
      stsError(result.error, requestId),
    );
  }
}

function isAwsChunked(req: IncomingMessage): boolean {
  const encodings = (header(req, "content-encoding") ?? "").split(",").map((part) => part.trim());
  return (
    encodings.includes("aws-chunked") || (header(req, "x-amz-content-sha256") ?? "").startsWith("STREAMING-")
  );
}

async function handleS3(
  ctx: EmulatorContext,
  req: IncomingMessage,
  method: string,
  rawPath: string,
  query: URLSearchParams,
  rawBody: Buffer,
  res: ServerResponse,
) {
  const requestId = ctx.state.ids.hex(16).toUpperCase();
  const common = {
    "x-amz-request-id": requestId,
    "x-amz-id-2": Buffer.from(ctx.state.ids.alnum(48)).toString("base64"),
  };
  const route = routeS3(method, rawPath, query);
  const meta = {
    service: "s3" as const,
    operation: route.operation,
    input: {
      ...(route.bucketName === undefined ? {} : { bucket: route.bucketName }),
      ...(route.key === undefined ? {} : { key: route.key }),
    },
  };
  const result = await performCall(ctx, meta, requestId, () => {
    const body = isAwsChunked(req) ? decodeAwsChunked(rawBody) : rawBody;
    return executeS3(
      ctx,
      { route, method, headers: req.headers, query, body, sourceIp: sourceIpOf(req) },
      meta,
    );
  });
  if (result.ok) {
    const { status, headers, body } = result.value;
    send(res, status, { ...common, ...headers }, method === "HEAD" ? undefined : body);
    return;
  }
  const error = result.error;
  if (method === "HEAD") {
    // HEAD errors have no body; the SDK names them from the status (404 -> NotFound).
    send(res, error.status, common);
    return;
  }
  const fields = Object.entries(error.fields)
    .map(([name, value]) => xmlElement(name, String(value)))
    .join("");
  send(
    res,
    error.status,
    { ...common, "content-type": "application/xml" },
    `${XML_DECLARATION}<Error>${xmlElement("Code", error.code)}<Message>${escapeXml(error.message)}</Message>${fields}${xmlElement("RequestId", requestId)}${xmlElement("HostId", common["x-amz-id-2"])}</Error>`,
  );
}

async function handle(
  ctx: EmulatorContext,
  oidc: OidcState,
  emulator: AwsEmulator,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const rawUrl = req.url ?? "/";
  const queryStart = rawUrl.indexOf("?");
  const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
  const query = new URLSearchParams(queryStart < 0 ? "" : rawUrl.slice(queryStart + 1));
  const method = req.method ?? "GET";
  const body = await readBody(req);
  if (rawPath.startsWith("/_emulator/")) {
    handleAdmin(emulator, method, rawPath, body, res);
    return;
  }
  const target = header(req, "x-amz-target");
  if (target !== undefined) {
    await handleJsonRpc(ctx, target, body, res);
    return;
  }
  if (method === "POST" && rawPath === "/" && isStsRequest(header(req, "authorization"))) {
    await handleSts(ctx, req, body, res);
    return;
  }
  // OIDC calls are unsigned JSON posts to their own paths; a signed request is S3's.
  const oidcOp = oidcOperation(method, rawPath);
  if (oidcOp !== undefined && req.headers.authorization === undefined) {
    await handleOidc(ctx, oidc, oidcOp, body, res);
    return;
  }
  // Portal calls are unsigned and carry the bearer token; a signed request to a bucket that
  // happens to be called "federation" is still S3.
  const portalOp = portalOperation(method, rawPath);
  if (
    portalOp !== undefined &&
    (req.headers["x-amz-sso_bearer_token"] !== undefined || req.headers.authorization === undefined)
  ) {
    await handlePortal(ctx, req, portalOp, query, res);
    return;
  }
  await handleS3(ctx, req, method, rawPath, query, body, res);
}

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const seed = options.seed ?? randomInt(2 ** 31);
  const region = options.region ?? "eu-west-1";
  const state = new EmulatorState({
    region,
    seed,
    ids: createRandom(seed),
    now: options.now ?? Date.now,
    assignmentDelayMs: options.assignmentDelayMs ?? 50,
  });
  const faults = new FaultController(seed, options.quotas);
  const calls = new CallLog();
  const ctx: EmulatorContext = { state, faults, calls };
  const oidc = new OidcState();

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
  const endpointHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

  const emulator: AwsEmulator = {
    endpoint: `http://${endpointHost}:${port}`,
    region,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // SDK clients keep connections alive; do not wait for them to time out.
        server.closeAllConnections();
      }),
    seed: (data) => state.seed(data),
    assignments: () => {
      state.settle();
      return [...state.assignments.values()].map((assignment) => ({ ...assignment }));
    },
    roles: () => {
      state.settle();
      return [...state.roles.values()].map((role) => ({ ...role }));
    },
    callLog: () => calls.list(),
    clearCallLog: () => calls.clear(),
    maxCallsInAnyWindow: (windowMs, filter) => maxCallsInAnyWindow(calls.list(), windowMs, filter),
    faults,
    registerCaller: (accessKeyId, caller) => state.registerCaller(accessKeyId, caller),
    signIn: (user) => state.signIn(user),
    approveDevice: (userCode, user) => {
      if (state.findUser(user) === undefined) {
        throw new Error(`Unknown user ${user}`);
      }
      oidc.decide(userCode, { kind: "approved", user });
    },
    denyDevice: (userCode) => oidc.decide(userCode, { kind: "denied" }),
    pendingDevices: () => oidc.pending(),
    deleteUser: (user) => state.deleteUser(user),
    reprovisionUser: (user) => state.reprovisionUser(user),
    setUserEmails: (user, emails) => state.setUserEmails(user, emails),
    snapshot: () => {
      state.settle();
      return { ...state.snapshot(), faults: faults.settings() };
    },
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handle(ctx, oidc, emulator, req, res).catch((error: unknown) => {
      // Only reached by failures outside performCall (e.g. a body that could not be read).
      if (!res.headersSent) {
        send(res, 500, { "content-type": "text/plain" }, `Emulator error: ${String(error)}`);
      } else {
        res.destroy();
      }
    });
  });
  return emulator;
}
