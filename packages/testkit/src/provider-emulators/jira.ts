import type { ProviderFault } from "./faults.js";
import {
  type JiraCredential,
  type JiraCredentialSeed,
  type JiraIssue,
  type JiraIssueSeed,
  type JiraProject,
  JiraState,
  type JiraStatus,
  type JiraStatusCategory,
  type JiraUser,
  type JiraUserSeed,
  STATUS_CATEGORIES,
} from "./jira-state.js";
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
import {
  hmacSha256Hex,
  type WebhookControls,
  type WebhookDelivery,
  WebhookSender,
  webhookControls,
} from "./webhooks.js";
import { jiraTime } from "./zoned-time.js";

// Jira Cloud platform REST API v3 on loopback, for the real jira.js client: GET
// /rest/api/3/issue/{issueIdOrKey} (with `fields=` selection), /rest/api/3/myself and
// /rest/api/3/user/search; Basic auth with email:API token; Jira's error shape
// `{"errorMessages": [], "errors": {}}`; and admin webhooks (jira:issue_updated with the status
// changelog, jira:issue_deleted) signed as Jira documents for webhooks with a secret: HMAC-SHA256
// of the raw body in `X-Hub-Signature: sha256=<hex>`, with X-Atlassian-Webhook-Identifier
// unchanged across retries.

const DEFAULT_EMAIL = "keyturn-bot@example.com";
const DEFAULT_API_TOKEN = "jira-keyturn-test-token";
const ALL_FIELDS = ["summary", "status", "project", "assignee", "issuetype", "created", "updated"] as const;

export type JiraEmulatorOptions = {
  host?: string;
  port?: number;
  now?: () => number;
  /** The site's zone, used to render times. Default UTC. */
  timeZone?: string;
  seed?: number;
};

export type JiraOperation =
  | "GET /rest/api/3/issue/{issueIdOrKey}"
  | "GET /rest/api/3/myself"
  | "GET /rest/api/3/user/search"
  | "unknown";

export type JiraEmulator = ProviderControls<JiraOperation> &
  WebhookControls & {
    /** The site URL, what jira.js takes as `host`. */
    url: string;
    /** The default API credential (Basic auth email and token). */
    credentials: { email: string; apiToken: string };
    addUser(seed: JiraUserSeed): JiraUser;
    addCredential(seed: JiraCredentialSeed): JiraCredential;
    revokeCredential(apiToken: string): void;
    addProject(key: string, name?: string): JiraProject;
    addStatus(input: { name: string; category: JiraStatusCategory }): JiraStatus;
    createIssue(seed: JiraIssueSeed): JiraIssue;
    issue(key: string): JiraIssue;
    /** Moves the issue to a status and sends jira:issue_updated with the status changelog. */
    transitionIssue(key: string, status: string, actorEmail?: string): Promise<WebhookDelivery[]>;
    /** Changes the assignee and sends jira:issue_updated with the assignee changelog. */
    assignIssue(key: string, assigneeEmail: string | null): Promise<WebhookDelivery[]>;
    /** Deletes the issue and sends jira:issue_deleted. */
    deleteIssue(key: string): Promise<WebhookDelivery[]>;
  };

type Json = { [key: string]: JsonValue };

class JiraApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function errorBody(
  status: number,
  messages: string[],
  headers: Record<string, string> = {},
): EmulatorResponse {
  return { status, headers, body: { errorMessages: messages, errors: {} } };
}

function operationOf(req: EmulatorRequest): JiraOperation {
  if (req.method !== "GET") {
    return "unknown";
  }
  if (/^\/rest\/api\/3\/issue\/[^/]+$/.test(req.path)) {
    return "GET /rest/api/3/issue/{issueIdOrKey}";
  }
  if (req.path === "/rest/api/3/myself" || req.path === "/rest/api/3/user/search") {
    return `GET ${req.path}` as JiraOperation;
  }
  return "unknown";
}

/** `fields=` as Jira reads it: comma lists, repeated params, `*all`, `*navigable`, `-name` to drop. */
function selectedFields(query: URLSearchParams): Set<string> {
  const tokens = query
    .getAll("fields")
    .flatMap((value) => value.split(","))
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const selected = new Set<string>(tokens.length === 0 ? ALL_FIELDS : []);
  for (const token of tokens) {
    if (token === "*all" || token === "*navigable") {
      for (const field of ALL_FIELDS) {
        selected.add(field);
      }
    } else if (!token.startsWith("-")) {
      selected.add(token);
    }
  }
  for (const token of tokens) {
    if (token.startsWith("-")) {
      selected.delete(token.slice(1));
    }
  }
  return selected;
}

class JiraProtocol implements ProviderProtocol {
  readonly #state: JiraState;
  readonly #now: () => number;
  origin = "";

  constructor(state: JiraState, now: () => number) {
    this.#state = state;
    this.#now = now;
  }

  operation(req: EmulatorRequest): string {
    return operationOf(req);
  }

  renderFault(fault: Extract<ProviderFault, { kind: "rate-limit" | "server-error" }>): EmulatorResponse {
    if (fault.kind === "rate-limit") {
      const seconds = fault.retryAfterSeconds ?? 5;
      return errorBody(429, ["Rate limit exceeded."], {
        "retry-after": String(seconds),
        "x-ratelimit-limit": "350",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": new Date(this.#now() + seconds * 1000).toISOString(),
      });
    }
    return errorBody(fault.status ?? 500, ["Internal server error"]);
  }

  handle(req: EmulatorRequest, operation: string): EmulatorResponse {
    try {
      const credential = this.#authenticate(req);
      switch (operation as JiraOperation) {
        case "GET /rest/api/3/issue/{issueIdOrKey}":
          return this.#getIssue(credential, decodeURIComponent(req.path.split("/")[5] ?? ""), req.query);
        case "GET /rest/api/3/myself":
          return {
            status: 200,
            body: this.#userJson(this.#state.users.get(credential.accountId) as JiraUser, true),
          };
        case "GET /rest/api/3/user/search":
          return this.#searchUsers(credential, req.query);
        case "unknown":
          throw new JiraApiError(404, "null for uri: the emulator serves issue, myself and user/search");
      }
    } catch (error) {
      if (error instanceof JiraApiError) {
        return errorBody(error.status, [error.message]);
      }
      throw error;
    }
  }

  #authenticate(req: EmulatorRequest): JiraCredential {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    const decoded = match?.[1] === undefined ? "" : Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const email = decoded.slice(0, colon).toLowerCase();
    const token = decoded.slice(colon + 1);
    const credential = this.#state.credentials.find(
      (c) => c.email.toLowerCase() === email && c.apiToken === token,
    );
    if (colon < 0 || credential === undefined) {
      throw new JiraApiError(
        401,
        "You are not authenticated. Authentication required to perform this operation.",
      );
    }
    if (credential.revoked) {
      throw new JiraApiError(403, "You do not have permission to access this Jira site.");
    }
    return credential;
  }

  #avatarUrls(kind: "user" | "project", id: string): Json {
    const base = `https://avatars.example.invalid/${kind}/${id}`;
    return { "48x48": `${base}/48`, "24x24": `${base}/24`, "16x16": `${base}/16`, "32x32": `${base}/32` };
  }

  #userJson(user: JiraUser, self: boolean): Json {
    const json: Json = {
      self: `${this.origin}/rest/api/3/user?accountId=${user.accountId}`,
      accountId: user.accountId,
      accountType: "atlassian",
      avatarUrls: this.#avatarUrls("user", user.accountId),
      displayName: user.displayName,
      active: user.active,
      timeZone: user.timeZone,
    };
    if (user.emailVisible || self) {
      json.emailAddress = user.email;
    }
    return json;
  }

  statusJson(status: JiraStatus): Json {
    const category = STATUS_CATEGORIES[status.category];
    return {
      self: `${this.origin}/rest/api/3/status/${status.id}`,
      description: "",
      iconUrl: `${this.origin}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: {
        self: `${this.origin}/rest/api/3/statuscategory/${category.id}`,
        id: category.id,
        key: status.category,
        colorName: category.colorName,
        name: category.name,
      },
    };
  }

  issueFields(issue: JiraIssue, selected: ReadonlySet<string>): Json {
    const project = this.#state.projects.get(issue.projectKey) as JiraProject;
    const assignee =
      issue.assigneeAccountId === null ? undefined : this.#state.users.get(issue.assigneeAccountId);
    const all: Json = {
      summary: issue.summary,
      status: this.statusJson(this.#state.statuses.get(issue.statusId) as JiraStatus),
      project: {
        self: `${this.origin}/rest/api/3/project/${project.id}`,
        id: project.id,
        key: project.key,
        name: project.name,
        projectTypeKey: "software",
        simplified: false,
        avatarUrls: this.#avatarUrls("project", project.id),
      },
      assignee: assignee === undefined ? null : this.#userJson(assignee, false),
      issuetype: {
        self: `${this.origin}/rest/api/3/issuetype/10001`,
        id: "10001",
        name: "Task",
        subtask: false,
        hierarchyLevel: 0,
      },
      created: jiraTime(issue.created, this.#state.timeZone),
      updated: jiraTime(issue.updated, this.#state.timeZone),
    };
    return Object.fromEntries(Object.entries(all).filter(([name]) => selected.has(name)));
  }

  issueJson(issue: JiraIssue, selected: ReadonlySet<string>): Json {
    return {
      expand: "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
      id: issue.id,
      self: `${this.origin}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields: this.issueFields(issue, selected),
    };
  }

  #getIssue(credential: JiraCredential, idOrKey: string, query: URLSearchParams): EmulatorResponse {
    const issue = this.#state.findIssue(idOrKey);
    // Jira answers the same 404 whether the issue is missing or hidden from this account.
    const visible =
      issue !== undefined &&
      (credential.browseProjects === undefined || credential.browseProjects.includes(issue.projectKey));
    if (!visible) {
      throw new JiraApiError(404, "Issue does not exist or you do not have permission to see it.");
    }
    return { status: 200, body: this.issueJson(issue, selectedFields(query)) };
  }

  #searchUsers(credential: JiraCredential, query: URLSearchParams): EmulatorResponse {
    const text = query.get("query");
    const accountId = query.get("accountId");
    if ((text === null || text === "") && (accountId === null || accountId === "")) {
      throw new JiraApiError(400, "The query parameter 'query' is required unless accountId is given.");
    }
    if (!credential.browseUsers) {
      // Without "Browse users and groups" Jira answers an empty list, not an error.
      return { status: 200, body: [] };
    }
    const wanted = (text ?? "").toLowerCase();
    // The query matches the start of the display name's words or of a visible email; a hidden
    // email matches only when the query is the whole address.
    const matches = (user: JiraUser): boolean => {
      if (accountId !== null && accountId !== "") {
        return user.accountId === accountId;
      }
      const email = user.email.toLowerCase();
      return (
        user.displayName
          .toLowerCase()
          .split(/\s+/)
          .some((word) => word.startsWith(wanted)) ||
        (user.emailVisible ? email.startsWith(wanted) : email === wanted)
      );
    };
    const startAt = Number(query.get("startAt") ?? "0");
    const maxResults = Math.min(Number(query.get("maxResults") ?? "50"), 1000);
    const found = [...this.#state.users.values()].filter((u) => u.active && matches(u));
    return {
      status: 200,
      body: found.slice(startAt, startAt + maxResults).map((u) => this.#userJson(u, false)),
    };
  }
}

export async function startJiraEmulator(options: JiraEmulatorOptions = {}): Promise<JiraEmulator> {
  const now = options.now ?? Date.now;
  const state = new JiraState(options.seed ?? 16, now, options.timeZone ?? "UTC");
  state.addCredential({ email: DEFAULT_EMAIL, apiToken: DEFAULT_API_TOKEN });
  const protocol = new JiraProtocol(state, now);
  const server = await startProviderServer(protocol, { now, ...listenOptions(options) });
  protocol.origin = server.origin;

  const webhooks = new WebhookSender(now, ({ body, secret, deliveryId, attempt }) => ({
    "x-atlassian-webhook-identifier": deliveryId,
    "x-atlassian-webhook-flow": "Primary",
    ...(attempt > 1 ? { "x-atlassian-webhook-retry": String(attempt - 1) } : {}),
    ...(secret === undefined ? {} : { "x-hub-signature": `sha256=${hmacSha256Hex(secret, body)}` }),
  }));
  const actorJson = (email: string | undefined): Json => {
    const actor = state.userByEmail(email ?? DEFAULT_EMAIL) ?? state.userByEmail(DEFAULT_EMAIL);
    return actor === undefined
      ? {}
      : { accountId: actor.accountId, displayName: actor.displayName, active: true };
  };
  const send = (payload: Json) => webhooks.send(JSON.stringify(payload), () => state.newDeliveryId());
  const issueUpdated = (issue: JiraIssue, actorEmail: string | undefined, items: Json[]) =>
    send({
      timestamp: now(),
      webhookEvent: "jira:issue_updated",
      issue_event_type_name: "issue_generic",
      user: actorJson(actorEmail),
      issue: protocol.issueJson(issue, new Set(ALL_FIELDS)),
      changelog: { id: String(Math.floor(now() / 1000)), items },
    });

  return {
    url: server.origin,
    credentials: { email: DEFAULT_EMAIL, apiToken: DEFAULT_API_TOKEN },
    addUser: (seed) => state.addUser(seed),
    addCredential: (seed) => state.addCredential(seed),
    revokeCredential: (apiToken) => {
      for (const credential of state.credentials.filter((c) => c.apiToken === apiToken)) {
        credential.revoked = true;
      }
    },
    addProject: (key, name) => state.addProject(key, name),
    addStatus: (input) => state.addStatus(input),
    createIssue: (seed) => state.createIssue(seed),
    issue: (key) => state.issue(key),
    transitionIssue: (key, statusName, actorEmail) => {
      const issue = state.issue(key);
      const from = state.statuses.get(issue.statusId) as JiraStatus;
      const to = state.statusByName(statusName);
      issue.statusId = to.id;
      issue.updated = now();
      return issueUpdated(issue, actorEmail, [
        {
          field: "status",
          fieldtype: "jira",
          fieldId: "status",
          from: from.id,
          fromString: from.name,
          to: to.id,
          toString: to.name,
        },
      ]);
    },
    assignIssue: (key, assigneeEmail) => {
      const before = state.issue(key).assigneeAccountId;
      const issue = state.setAssignee(key, assigneeEmail);
      const name = (id: string | null) => (id === null ? null : (state.users.get(id)?.displayName ?? null));
      return issueUpdated(issue, undefined, [
        {
          field: "assignee",
          fieldtype: "jira",
          fieldId: "assignee",
          from: before,
          fromString: name(before),
          to: issue.assigneeAccountId,
          toString: name(issue.assigneeAccountId),
        },
      ]);
    },
    deleteIssue: (key) => {
      const issue = state.issue(key);
      const payload: Json = {
        timestamp: now(),
        webhookEvent: "jira:issue_deleted",
        issue_event_type_name: "issue_deleted",
        user: actorJson(undefined),
        issue: protocol.issueJson(issue, new Set(ALL_FIELDS)),
      };
      state.issues.delete(issue.key);
      return send(payload);
    },
    // Jira's retry: same body and identifier, X-Atlassian-Webhook-Retry set.
    ...webhookControls(webhooks),
    ...providerControls<JiraOperation>(server),
  };
}
