import type { ServerResponse } from "node:http";
import type {
  AsyncFailureRule,
  AwsEmulator,
  CallerRegistration,
  FaultRule,
  FaultSettingsPatch,
  SeedData,
} from "./types.js";
import { isObject, sendJson } from "./wire.js";

// The admin surface under /_emulator/, for the standalone emulator and other processes. It calls
// the same AwsEmulator methods a test uses in-process, so both stay in step. Bodies come from
// trusted test tooling: they are checked for shape only as far as the methods need.

type FaultsRequest = {
  set?: FaultSettingsPatch;
  failNext?: FaultRule | FaultRule[];
  failNextAssignment?: AsyncFailureRule | AsyncFailureRule[];
  reseed?: number;
  reset?: boolean;
};

class BadRequest extends Error {}

function parseObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch {
    throw new BadRequest("The body must be JSON");
  }
  if (!isObject(value)) {
    throw new BadRequest("The body must be a JSON object");
  }
  return value;
}

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function applyFaults(emulator: AwsEmulator, request: FaultsRequest): void {
  if (request.reset === true) {
    emulator.faults.reset();
  }
  if (request.reseed !== undefined) {
    emulator.faults.reseed(request.reseed);
  }
  if (request.set !== undefined) {
    emulator.faults.set(request.set);
  }
  for (const rule of list(request.failNext)) {
    emulator.faults.failNext(rule);
  }
  for (const rule of list(request.failNextAssignment)) {
    emulator.faults.failNextAssignment(rule);
  }
}

/** The JSON answer of an admin route, or undefined for an unknown route. */
function route(emulator: AwsEmulator, method: string, path: string, body: Buffer): unknown {
  switch (`${method} ${path.replace(/\/+$/, "")}`) {
    case "POST /_emulator/seed":
      return emulator.seed(parseObject(body) as SeedData);
    case "GET /_emulator/state":
      return emulator.snapshot();
    case "GET /_emulator/calls":
      return emulator.callLog();
    case "DELETE /_emulator/calls":
      emulator.clearCallLog();
      return {};
    case "GET /_emulator/faults":
      return emulator.faults.settings();
    case "POST /_emulator/faults":
      applyFaults(emulator, parseObject(body) as FaultsRequest);
      return emulator.faults.settings();
    case "POST /_emulator/sign-in": {
      const { user } = parseObject(body);
      if (typeof user !== "string") {
        throw new BadRequest("Expected {user: userName | userId}");
      }
      return emulator.signIn(user);
    }
    case "GET /_emulator/device-authorizations":
      return emulator.pendingDevices();
    case "POST /_emulator/device-authorizations": {
      // The browser step of the SSO OIDC device flow, as "the user approved in the browser".
      const { userCode, user, decision } = parseObject(body);
      if (typeof userCode !== "string" || (decision !== "approve" && decision !== "deny")) {
        throw new BadRequest('Expected {userCode, decision: "approve" | "deny", user (to approve)}');
      }
      if (decision === "deny") {
        emulator.denyDevice(userCode);
      } else if (typeof user === "string") {
        emulator.approveDevice(userCode, user);
      } else {
        throw new BadRequest("Approving needs {user: userName | userId}");
      }
      return {};
    }
    case "POST /_emulator/callers": {
      const { accessKeyId, ...caller } = parseObject(body);
      if (typeof accessKeyId !== "string") {
        throw new BadRequest("Expected {accessKeyId, roleArn, accountId, policies?}");
      }
      emulator.registerCaller(accessKeyId, caller as CallerRegistration);
      return {};
    }
    default:
      return undefined;
  }
}

export function handleAdmin(
  emulator: AwsEmulator,
  method: string,
  path: string,
  body: Buffer,
  res: ServerResponse,
): void {
  let answer: unknown;
  try {
    answer = route(emulator, method, path, body);
  } catch (error) {
    // Seeding and fault errors are the caller's mistakes (unknown user, bad probability...).
    sendJson(res, 400, { message: error instanceof Error ? error.message : String(error) });
    return;
  }
  if (answer === undefined) {
    sendJson(res, 404, { message: `No admin route ${method} ${path}` });
    return;
  }
  sendJson(res, 200, answer);
}
