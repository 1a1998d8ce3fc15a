import type { ProviderFault } from "./faults.js";
import {
  PagerDutyState,
  type PdEscalationPolicy,
  type PdEscalationPolicySeed,
  type PdOnCall,
  type PdOnCallSeed,
  type PdSchedule,
  type PdScheduleSeed,
  type PdUser,
  type PdUserSeed,
} from "./pagerduty-state.js";
import {
  type EmulatorRequest,
  type EmulatorResponse,
  type JsonValue,
  listenOptions,
  type ProviderControls,
  type ProviderProtocol,
  providerControls,
  startProviderServer,
} from "./server.js";
import { isoInZone, isTimeZone } from "./zoned-time.js";

// PagerDuty REST API v2 on loopback, for the real @pagerduty/pdjs client: GET /oncalls,
// /schedules, /schedules/{id}, /users, /users/{id}, with PagerDuty's auth header
// (`Authorization: Token token=...`), its versioned Accept header, classic offset pagination
// (limit, offset, more, total) and its error shape `{"error": {"message", "code", "errors"}}`.
// Parameters and shapes follow PagerDuty's OpenAPI description (PagerDuty/api-schema).

export const PAGERDUTY_ACCEPT = "application/vnd.pagerduty+json;version=2";
const DEFAULT_TOKEN = "pd-keyturn-test-token";
const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 25;
/** "On-call shifts are limited to 90 days in the future." */
const MAX_FUTURE_MS = 90 * 24 * 3600 * 1000;
/** The number PagerDuty reports in `ratelimit-limit` for a REST API key (per minute). */
const RATE_LIMIT = 960;

// PagerDuty's error codes for these answers; Keyturn's adapter keys on the HTTP status only.
const ERROR = {
  invalidInput: { status: 400, code: 2001, message: "Invalid Input Provided" },
  unauthorized: { status: 401, code: 2006, message: "Invalid Credentials" },
  forbidden: { status: 403, code: 2010, message: "Access Denied" },
  notFound: { status: 404, code: 2100, message: "Not Found" },
  rateLimited: { status: 429, code: 2020, message: "Rate Limit Exceeded" },
} as const;

export type PagerDutyTokenAccess = "read" | "forbidden";

export type PagerDutyEmulatorOptions = {
  host?: string;
  port?: number;
  /** Epoch ms; the default `since`/`until` of /oncalls is this instant. */
  now?: () => number;
  /** Token -> access. Default: one token (`token`) that may read everything. */
  tokens?: Readonly<Record<string, PagerDutyTokenAccess>>;
  /** Times are rendered in this zone unless `time_zone` asks for another. Default UTC. */
  accountTimeZone?: string;
  seed?: number;
};

export type PagerDutyEmulator = ProviderControls<PagerDutyOperation> & {
  /** Base URL to hand pdjs as `url` prefixes (no trailing slash). */
  url: string;
  /** The default read token. */
  token: string;
  addUser(seed: PdUserSeed): PdUser;
  addSchedule(seed: PdScheduleSeed): PdSchedule;
  addEscalationPolicy(seed: PdEscalationPolicySeed): PdEscalationPolicy;
  addOnCall(seed: PdOnCallSeed): PdOnCall;
  removeOnCall(id: string): void;
  endOnCall(id: string, at: Date | number): void;
};

export type PagerDutyOperation =
  | "GET /oncalls"
  | "GET /schedules"
  | "GET /schedules/{id}"
  | "GET /users"
  | "GET /users/{id}"
  | "unknown";

type Json = { [key: string]: JsonValue };

class PdError extends Error {
  readonly status: number;
  readonly code: number;
  readonly errors: string[];
  constructor(kind: (typeof ERROR)[keyof typeof ERROR], errors: string[] = []) {
    super(kind.message);
    this.status = kind.status;
    this.code = kind.code;
    this.errors = errors;
  }
}

function errorResponse(error: PdError, headers: Record<string, string> = {}): EmulatorResponse {
  const body: Json = { message: error.message, code: error.code };
  if (error.errors.length > 0) {
    body.errors = error.errors;
  }
  return { status: error.status, headers, body: { error: body } };
}

function operationOf(req: EmulatorRequest): PagerDutyOperation {
  if (req.method !== "GET") {
    return "unknown";
  }
  if (req.path === "/oncalls" || req.path === "/schedules" || req.path === "/users") {
    return `GET ${req.path}` as PagerDutyOperation;
  }
  if (/^\/schedules\/[^/]+$/.test(req.path)) {
    return "GET /schedules/{id}";
  }
  if (/^\/users\/[^/]+$/.test(req.path)) {
    return "GET /users/{id}";
  }
  return "unknown";
}

function parseInteger(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) {
    return fallback;
  }
  if (!/^\d+$/.test(raw)) {
    throw new PdError(ERROR.invalidInput, [`${name} must be a non-negative integer`]);
  }
  return Number(raw);
}

function parseBoolean(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw === null) {
    return false;
  }
  if (raw !== "true" && raw !== "false") {
    throw new PdError(ERROR.invalidInput, [`${name} must be true or false`]);
  }
  return raw === "true";
}

function parseTime(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) {
    return fallback;
  }
  const parsed = Date.parse(raw);
  if (raw === "" || Number.isNaN(parsed)) {
    throw new PdError(ERROR.invalidInput, [`${name} is not a valid date`]);
  }
  return parsed;
}

function includes(query: URLSearchParams, allowed: readonly string[]): Set<string> {
  const values = query.getAll("include[]");
  for (const value of values) {
    if (!allowed.includes(value)) {
      throw new PdError(ERROR.invalidInput, [`include[] has an invalid value: ${value}`]);
    }
  }
  return new Set(values);
}

/** Classic pagination: `limit` is capped at 100, `more` says whether another page exists. */
function page<T>(query: URLSearchParams, items: readonly T[]): { items: T[]; envelope: Json } {
  const requested = parseInteger(query, "limit", DEFAULT_LIMIT);
  const limit = Math.min(Math.max(requested, 1), MAX_LIMIT);
  const offset = parseInteger(query, "offset", 0);
  const slice = items.slice(offset, offset + limit);
  return {
    items: slice,
    envelope: {
      limit,
      offset,
      more: offset + limit < items.length,
      total: parseBoolean(query, "total") ? items.length : null,
    },
  };
}

class PagerDutyProtocol implements ProviderProtocol {
  readonly #state: PagerDutyState;
  readonly #tokens: Readonly<Record<string, PagerDutyTokenAccess>>;
  readonly #now: () => number;
  origin = "";

  constructor(
    state: PagerDutyState,
    tokens: Readonly<Record<string, PagerDutyTokenAccess>>,
    now: () => number,
  ) {
    this.#state = state;
    this.#tokens = tokens;
    this.#now = now;
  }

  operation(req: EmulatorRequest): string {
    return operationOf(req);
  }

  renderFault(fault: Extract<ProviderFault, { kind: "rate-limit" | "server-error" }>): EmulatorResponse {
    if (fault.kind === "rate-limit") {
      // PagerDuty's documented headers: wait `ratelimit-reset` seconds before retrying.
      return errorResponse(new PdError(ERROR.rateLimited), {
        "ratelimit-limit": String(RATE_LIMIT),
        "ratelimit-remaining": "0",
        "ratelimit-reset": String(fault.retryAfterSeconds ?? 30),
      });
    }
    const status = fault.status ?? 500;
    return {
      status,
      body: { error: { message: status === 500 ? "Internal Server Error" : "Service Unavailable" } },
    };
  }

  handle(req: EmulatorRequest, operation: string): EmulatorResponse {
    try {
      this.#authorize(req);
      const zone = this.#zone(req.query);
      const id = decodeURIComponent(req.path.split("/")[2] ?? "");
      switch (operation as PagerDutyOperation) {
        case "GET /oncalls":
          return this.#listOnCalls(req.query, zone);
        case "GET /schedules":
          return this.#listSchedules(req.query, zone);
        case "GET /schedules/{id}":
          return this.#getSchedule(id, zone);
        case "GET /users":
          return this.#listUsers(req.query);
        case "GET /users/{id}":
          return this.#getUser(id);
        case "unknown":
          throw new PdError(ERROR.notFound);
      }
    } catch (error) {
      if (error instanceof PdError) {
        return errorResponse(error);
      }
      throw error;
    }
  }

  #authorize(req: EmulatorRequest): void {
    const match = /^Token token=(\S+)$/.exec(req.headers.authorization ?? "");
    const access = match?.[1] === undefined ? undefined : this.#tokens[match[1]];
    if (access === undefined) {
      throw new PdError(ERROR.unauthorized);
    }
    if (access === "forbidden") {
      throw new PdError(ERROR.forbidden);
    }
    // The Accept header selects the API version; v2 is the only one served.
    const accept = (req.headers.accept ?? "").replace(/\s+/g, "").toLowerCase();
    if (!accept.split(",").includes(PAGERDUTY_ACCEPT)) {
      throw new PdError(ERROR.invalidInput, [`Accept must be ${PAGERDUTY_ACCEPT}`]);
    }
  }

  #zone(query: URLSearchParams): string {
    const zone = query.get("time_zone");
    if (zone === null) {
      return this.#state.accountTimeZone;
    }
    if (!isTimeZone(zone)) {
      throw new PdError(ERROR.invalidInput, ["Time Zone is invalid"]);
    }
    return zone;
  }

  #ref(kind: "user" | "schedule" | "escalation_policy", id: string, summary: string): Json {
    const collection = kind === "escalation_policy" ? "escalation_policies" : `${kind}s`;
    return {
      id,
      type: `${kind}_reference`,
      summary,
      self: `${this.origin}/${collection}/${id}`,
      html_url: `https://keyturn-test.pagerduty.com/${collection}/${id}`,
    };
  }

  #userJson(user: PdUser): Json {
    return {
      ...this.#ref("user", user.id, user.name),
      type: "user",
      name: user.name,
      email: user.email,
      time_zone: user.timeZone,
      role: user.role,
      color: "green",
      description: null,
      invitation_sent: false,
      job_title: "",
      teams: [],
      contact_methods: [],
      notification_rules: [],
    };
  }

  #scheduleJson(schedule: PdSchedule, zone: string | undefined): Json {
    const onCallUsers = [
      ...new Set(this.#state.onCalls.filter((o) => o.scheduleId === schedule.id).map((o) => o.userId)),
    ];
    const policies = [
      ...new Set(
        this.#state.onCalls.filter((o) => o.scheduleId === schedule.id).map((o) => o.escalationPolicyId),
      ),
    ];
    return {
      ...this.#ref("schedule", schedule.id, schedule.name),
      type: "schedule",
      name: schedule.name,
      time_zone: zone ?? schedule.timeZone,
      description: schedule.description,
      users: onCallUsers.map((id) => this.#ref("user", id, this.#state.users.get(id)?.name ?? id)),
      escalation_policies: policies.map((id) =>
        this.#ref("escalation_policy", id, this.#state.policies.get(id)?.name ?? id),
      ),
      teams: [],
    };
  }

  #listOnCalls(query: URLSearchParams, zone: string): EmulatorResponse {
    const now = this.#now();
    const since = parseTime(query, "since", now);
    const until = parseTime(query, "until", now);
    if (until < since) {
      throw new PdError(ERROR.invalidInput, ["until cannot be before since"]);
    }
    if (until - now > MAX_FUTURE_MS) {
      throw new PdError(ERROR.invalidInput, ["On-call shifts are limited to 90 days in the future"]);
    }
    const include = includes(query, ["escalation_policies", "users", "schedules"]);
    const userIds = query.getAll("user_ids[]");
    const policyIds = query.getAll("escalation_policy_ids[]");
    const scheduleIds = query.getAll("schedule_ids[]");
    const earliest = parseBoolean(query, "earliest");

    // An on-call is listed when its period overlaps [since, until]; it has ended at `end`.
    let matching = this.#state.onCalls.filter(
      (o) =>
        (o.start === null || o.start <= until) &&
        (o.end === null || o.end > since) &&
        (userIds.length === 0 || userIds.includes(o.userId)) &&
        (policyIds.length === 0 || policyIds.includes(o.escalationPolicyId)) &&
        (scheduleIds.length === 0 || scheduleIds.includes(o.scheduleId ?? "null")),
    );
    matching.sort(
      (a, b) =>
        (a.start ?? Number.NEGATIVE_INFINITY) - (b.start ?? Number.NEGATIVE_INFINITY) ||
        a.level - b.level ||
        a.escalationPolicyId.localeCompare(b.escalationPolicyId) ||
        a.userId.localeCompare(b.userId),
    );
    if (earliest) {
      const seen = new Set<string>();
      matching = matching.filter((o) => {
        const key = `${o.escalationPolicyId}/${o.level}/${o.userId}`;
        if (seen.has(key)) {
          return false;
        }
        seen.add(key);
        return true;
      });
    }
    const { items, envelope } = page(query, matching);
    const oncalls = items.map((o): Json => {
      const user = this.#state.users.get(o.userId) as PdUser;
      const policy = this.#state.policies.get(o.escalationPolicyId) as PdEscalationPolicy;
      const schedule = o.scheduleId === null ? undefined : this.#state.schedules.get(o.scheduleId);
      return {
        escalation_policy: include.has("escalation_policies")
          ? {
              ...this.#ref("escalation_policy", policy.id, policy.name),
              type: "escalation_policy",
              name: policy.name,
            }
          : this.#ref("escalation_policy", policy.id, policy.name),
        escalation_level: o.level,
        schedule:
          schedule === undefined
            ? null
            : include.has("schedules")
              ? this.#scheduleJson(schedule, zone)
              : this.#ref("schedule", schedule.id, schedule.name),
        user: include.has("users") ? this.#userJson(user) : this.#ref("user", user.id, user.name),
        start: o.start === null ? null : isoInZone(o.start, zone),
        end: o.end === null ? null : isoInZone(o.end, zone),
      };
    });
    return { status: 200, body: { oncalls, ...envelope } };
  }

  #listSchedules(query: URLSearchParams, zone: string | undefined): EmulatorResponse {
    const text = (query.get("query") ?? "").toLowerCase();
    const matching = [...this.#state.schedules.values()]
      .filter((s) => s.name.toLowerCase().includes(text))
      .sort((a, b) => a.name.localeCompare(b.name));
    const { items, envelope } = page(query, matching);
    const explicitZone = query.has("time_zone") ? zone : undefined;
    return {
      status: 200,
      body: { schedules: items.map((s) => this.#scheduleJson(s, explicitZone)), ...envelope },
    };
  }

  #getSchedule(id: string, zone: string): EmulatorResponse {
    const schedule = this.#state.schedules.get(id);
    if (schedule === undefined) {
      throw new PdError(ERROR.notFound);
    }
    return { status: 200, body: { schedule: this.#scheduleJson(schedule, zone) } };
  }

  #listUsers(query: URLSearchParams): EmulatorResponse {
    includes(query, ["contact_methods", "notification_rules", "teams", "subdomains"]);
    // PagerDuty documents `query` as matching names; the live API also matches email addresses.
    // Keyturn's adapter relies on neither: it reads emails from the on-calls themselves.
    const text = (query.get("query") ?? "").toLowerCase();
    const matching = [...this.#state.users.values()]
      .filter((u) => u.name.toLowerCase().includes(text) || u.email.toLowerCase().includes(text))
      .sort((a, b) => a.name.localeCompare(b.name));
    const { items, envelope } = page(query, matching);
    return { status: 200, body: { users: items.map((u) => this.#userJson(u)), ...envelope } };
  }

  #getUser(id: string): EmulatorResponse {
    const user = this.#state.users.get(id);
    if (user === undefined) {
      throw new PdError(ERROR.notFound);
    }
    return { status: 200, body: { user: this.#userJson(user) } };
  }
}

export async function startPagerDutyEmulator(
  options: PagerDutyEmulatorOptions = {},
): Promise<PagerDutyEmulator> {
  const now = options.now ?? Date.now;
  const zone = options.accountTimeZone ?? "UTC";
  if (!isTimeZone(zone)) {
    throw new RangeError(`accountTimeZone: unknown time zone ${zone}`);
  }
  const state = new PagerDutyState(options.seed ?? 16, zone);
  const tokens = options.tokens ?? { [DEFAULT_TOKEN]: "read" };
  const token = Object.entries(tokens).find(([, access]) => access === "read")?.[0] ?? DEFAULT_TOKEN;
  const protocol = new PagerDutyProtocol(state, tokens, now);
  const server = await startProviderServer(protocol, { now, ...listenOptions(options) });
  protocol.origin = server.origin;
  return {
    url: server.origin,
    token,
    addUser: (seed) => state.addUser(seed),
    addSchedule: (seed) => state.addSchedule(seed),
    addEscalationPolicy: (seed) => state.addEscalationPolicy(seed),
    addOnCall: (seed) => state.addOnCall(seed),
    removeOnCall: (id) => state.removeOnCall(id),
    endOnCall: (id, at) => state.endOnCall(id, at instanceof Date ? at.getTime() : at),
    ...providerControls<PagerDutyOperation>(server),
  };
}
