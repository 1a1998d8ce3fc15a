import {
  buildSchema,
  type DocumentNode,
  type ExecutionResult,
  execute,
  GraphQLError,
  Kind,
  parse,
  validate,
} from "graphql";
import type { ProviderFault } from "./faults.js";
import {
  type LinearApiKey,
  type LinearIssue,
  type LinearIssueSeed,
  LinearState,
  type LinearTeam,
  type LinearUser,
  type LinearWorkflowState,
} from "./linear-state.js";
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

// Linear's GraphQL API on loopback (POST /graphql), for the real @linear/sdk client pointed at it
// with `apiUrl`. The schema is the part of Linear's the ticket check reads, written here (not
// copied), and executed by graphql-js, so an unknown field fails validation as it does at Linear:
// `issue(id:)` by UUID or identifier ("ENG-42") with title, url, state { type name }, team { key },
// assignee { email }, and `viewer`. Personal API keys go in `Authorization` as they are (OAuth
// tokens as `Bearer`). Errors carry Linear's `extensions` (`type`, `code`,
// `userPresentableMessage`), which @linear/sdk turns into its typed errors. Webhooks are signed
// as Linear documents: `Linear-Signature` is the HMAC-SHA256 hex of the raw body, and the body's
// `webhookTimestamp` (ms) is what receivers check for freshness.

const DEFAULT_API_KEY = "lin_api_keyturntestkey0000000000000000000000";
const DEFAULT_EMAIL = "keyturn-bot@example.com";
const WORKSPACE_URL_KEY = "keyturn-test";
const REQUESTS_PER_HOUR = 5000;

const SCHEMA = buildSchema(`
  scalar DateTime

  type Query {
    "An issue by its UUID or its identifier (TEAM-123)."
    issue(id: String!): Issue!
    "The user the API key belongs to."
    viewer: User!
    team(id: String!): Team!
  }

  type Issue {
    id: ID!
    identifier: String!
    number: Float!
    title: String!
    url: String!
    createdAt: DateTime!
    updatedAt: DateTime!
    completedAt: DateTime
    canceledAt: DateTime
    state: WorkflowState!
    team: Team!
    assignee: User
  }

  type WorkflowState {
    id: ID!
    name: String!
    "triage, backlog, unstarted, started, completed or canceled."
    type: String!
    color: String!
  }

  type Team {
    id: ID!
    key: String!
    name: String!
  }

  type User {
    id: ID!
    name: String!
    displayName: String!
    email: String!
    active: Boolean!
  }
`);

export type LinearEmulatorOptions = { host?: string; port?: number; now?: () => number; seed?: number };

/** Faults and calls are keyed by the query's first root field ("issue", "viewer"), else "graphql". */
export type LinearOperation = "issue" | "viewer" | "team" | "graphql";

export type LinearEmulator = ProviderControls<LinearOperation> &
  WebhookControls & {
    /** What @linear/sdk takes as `apiUrl`. */
    apiUrl: string;
    /** The default personal API key. */
    apiKey: string;
    addTeam(key: string, name?: string): LinearTeam;
    addUser(input: { name: string; email: string }): LinearUser;
    /** A personal API key of a user; `teamKeys` limits the teams it sees (default all). */
    addApiKey(input: { key: string; userEmail: string; teamKeys?: readonly string[] }): LinearApiKey;
    revokeApiKey(key: string): void;
    createIssue(seed: LinearIssueSeed): LinearIssue & { identifier: string };
    /** Moves the issue to a workflow state (by name) and sends the Issue update webhook. */
    moveIssue(identifier: string, stateName: string): Promise<WebhookDelivery[]>;
    assignIssue(identifier: string, email: string | null): Promise<WebhookDelivery[]>;
    /** Deletes the issue and sends the Issue remove webhook. */
    deleteIssue(identifier: string): Promise<WebhookDelivery[]>;
  };

type Json = { [key: string]: JsonValue };
type Context = { apiKey: LinearApiKey };

function linearError(message: string, type: string, code: string, userPresentableMessage: string): Json {
  return { message, extensions: { type, code, userError: true, userPresentableMessage } };
}

function graphqlErrors(
  status: number,
  errors: Json[],
  headers: Record<string, string> = {},
): EmulatorResponse {
  return { status, headers, body: { errors, data: null } };
}

function parseDocument(body: Buffer): { query: string; variables: Json; document: DocumentNode } | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { query?: unknown; variables?: unknown };
    if (typeof parsed.query !== "string") {
      return undefined;
    }
    const variables =
      typeof parsed.variables === "object" && parsed.variables !== null ? (parsed.variables as Json) : {};
    return { query: parsed.query, variables, document: parse(parsed.query) };
  } catch {
    return undefined;
  }
}

function rootField(document: DocumentNode): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      const first = definition.selectionSet.selections[0];
      return first?.kind === Kind.FIELD ? first.name.value : undefined;
    }
  }
  return undefined;
}

class LinearProtocol implements ProviderProtocol {
  readonly #state: LinearState;
  readonly #now: () => number;

  constructor(state: LinearState, now: () => number) {
    this.#state = state;
    this.#now = now;
  }

  operation(req: EmulatorRequest): string {
    const parsed = req.method === "POST" && req.path === "/graphql" ? parseDocument(req.body) : undefined;
    const field = parsed === undefined ? undefined : rootField(parsed.document);
    return field === "issue" || field === "viewer" || field === "team" ? field : "graphql";
  }

  #rateHeaders(remaining: number, resetSeconds: number): Record<string, string> {
    return {
      "x-ratelimit-requests-limit": String(REQUESTS_PER_HOUR),
      "x-ratelimit-requests-remaining": String(remaining),
      "x-ratelimit-requests-reset": String(Math.floor(this.#now() / 1000) + resetSeconds),
    };
  }

  renderFault(fault: Extract<ProviderFault, { kind: "rate-limit" | "server-error" }>): EmulatorResponse {
    if (fault.kind === "rate-limit") {
      // Linear reports rate limiting as a GraphQL error with code RATELIMITED, with its
      // X-RateLimit-* headers; @linear/sdk reads it from extensions.type (or a 429 status).
      const seconds = fault.retryAfterSeconds ?? 60;
      return graphqlErrors(
        400,
        [
          linearError(
            "Rate limit exceeded",
            "ratelimited",
            "RATELIMITED",
            "Rate limit exceeded, retry later.",
          ),
        ],
        { ...this.#rateHeaders(0, seconds), "retry-after": String(seconds) },
      );
    }
    const status = fault.status ?? 500;
    if (status === 500) {
      return graphqlErrors(500, [
        linearError(
          "Internal server error",
          "internal error",
          "INTERNAL_SERVER_ERROR",
          "Something went wrong.",
        ),
      ]);
    }
    // A gateway in front of the API answers the other 5xx with a page, not GraphQL.
    return {
      status,
      body: { raw: "<html><body>Service Unavailable</body></html>", contentType: "text/html" },
    };
  }

  async handle(req: EmulatorRequest): Promise<EmulatorResponse> {
    if (req.method !== "POST" || req.path !== "/graphql") {
      return { status: 404, body: { raw: "Not found", contentType: "text/plain" } };
    }
    const apiKey = this.#authenticate(req.headers.authorization);
    if (apiKey === undefined) {
      return graphqlErrors(400, [
        linearError(
          "Authentication required, not authenticated",
          "authentication error",
          "AUTHENTICATION_ERROR",
          "You need to authenticate to access this operation.",
        ),
      ]);
    }
    const parsed = parseDocument(req.body);
    if (parsed === undefined) {
      return graphqlErrors(400, [
        linearError("Must provide query string.", "graphql error", "BAD_USER_INPUT", "Invalid query."),
      ]);
    }
    const problems = validate(SCHEMA, parsed.document);
    if (problems.length > 0) {
      return graphqlErrors(
        400,
        problems.map((p) => ({
          message: p.message,
          locations: (p.locations ?? []).map((l) => ({ line: l.line, column: l.column })),
          extensions: { type: "graphql error", code: "GRAPHQL_VALIDATION_FAILED", userError: true },
        })),
      );
    }
    const context: Context = { apiKey };
    const result = (await execute({
      schema: SCHEMA,
      document: parsed.document,
      rootValue: this.#root(),
      contextValue: context,
      variableValues: parsed.variables,
    })) as ExecutionResult;
    const body: Json = { data: (result.data ?? null) as JsonValue };
    if (result.errors !== undefined && result.errors.length > 0) {
      body.errors = result.errors.map((e) => e.toJSON() as unknown as Json);
    }
    return { status: 200, headers: this.#rateHeaders(REQUESTS_PER_HOUR - 1, 3600), body };
  }

  #authenticate(authorization: string | undefined): LinearApiKey | undefined {
    const key = (authorization ?? "").replace(/^Bearer\s+/i, "");
    return this.#state.apiKeys.find((k) => k.key === key);
  }

  userJson(user: LinearUser): Json {
    return {
      id: user.id,
      name: user.name,
      displayName: user.displayName,
      email: user.email,
      active: user.active,
    };
  }

  stateJson(state: LinearWorkflowState): Json {
    return { id: state.id, name: state.name, type: state.type, color: state.color };
  }

  teamJson(team: LinearTeam): Json {
    return { id: team.id, key: team.key, name: team.name };
  }

  issueJson(issue: LinearIssue): Json {
    const state = this.#state.states.get(issue.stateId) as LinearWorkflowState;
    const team = this.#state.teams.get(issue.teamId) as LinearTeam;
    const assignee = issue.assigneeId === null ? undefined : this.#state.users.get(issue.assigneeId);
    const identifier = this.#state.identifier(issue);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      id: issue.id,
      identifier,
      number: issue.number,
      title: issue.title,
      url: `https://linear.app/${WORKSPACE_URL_KEY}/issue/${identifier}`,
      createdAt: iso(issue.createdAt),
      updatedAt: iso(issue.updatedAt),
      completedAt: state.type === "completed" ? iso(issue.updatedAt) : null,
      canceledAt: state.type === "canceled" ? iso(issue.updatedAt) : null,
      state: this.stateJson(state),
      team: this.teamJson(team),
      assignee: assignee === undefined ? null : this.userJson(assignee),
    };
  }

  #root() {
    const notFound = (entity: string) =>
      new GraphQLError(`Entity not found: ${entity}`, {
        extensions: {
          type: "invalid input",
          code: "INPUT_ERROR",
          userError: true,
          userPresentableMessage: `Could not find referenced ${entity}.`,
        },
      });
    const visible = (apiKey: LinearApiKey, teamId: string): boolean => {
      const team = this.#state.teams.get(teamId);
      return apiKey.teamKeys === undefined || (team !== undefined && apiKey.teamKeys.includes(team.key));
    };
    return {
      issue: ({ id }: { id: string }, context: Context) => {
        const issue = this.#state.findIssue(id);
        // An issue in a team the key cannot see is reported as missing, not forbidden.
        if (issue === undefined || !visible(context.apiKey, issue.teamId)) {
          throw notFound("Issue");
        }
        return this.issueJson(issue);
      },
      viewer: (_args: unknown, context: Context) =>
        this.userJson(this.#state.users.get(context.apiKey.userId) as LinearUser),
      team: ({ id }: { id: string }, context: Context) => {
        const team = [...this.#state.teams.values()].find((t) => t.id === id || t.key === id.toUpperCase());
        if (team === undefined || !visible(context.apiKey, team.id)) {
          throw notFound("Team");
        }
        return this.teamJson(team);
      },
    };
  }
}

export async function startLinearEmulator(options: LinearEmulatorOptions = {}): Promise<LinearEmulator> {
  const now = options.now ?? Date.now;
  const state = new LinearState(options.seed ?? 16, now);
  state.addApiKey({ key: DEFAULT_API_KEY, userEmail: DEFAULT_EMAIL });
  const protocol = new LinearProtocol(state, now);
  const server = await startProviderServer(protocol, { now, ...listenOptions(options) });
  const webhooks = new WebhookSender(now, ({ body, secret, deliveryId }) => ({
    "linear-delivery": deliveryId,
    "linear-event": "Issue",
    "user-agent": "Linear-Webhook",
    ...(secret === undefined ? {} : { "linear-signature": hmacSha256Hex(secret, body) }),
  }));
  const send = (action: "update" | "remove", issue: LinearIssue, updatedFrom: Json | undefined) => {
    const data = protocol.issueJson(issue);
    const payload: Json = {
      action,
      type: "Issue",
      createdAt: new Date(now()).toISOString(),
      data: { ...data, teamId: issue.teamId, stateId: issue.stateId, assigneeId: issue.assigneeId },
      ...(updatedFrom === undefined ? {} : { updatedFrom }),
      url: data.url as string,
      organizationId: state.organizationId,
      webhookTimestamp: now(),
      webhookId: state.uuid(),
    };
    return webhooks.send(JSON.stringify(payload), () => state.uuid());
  };

  return {
    apiUrl: `${server.origin}/graphql`,
    apiKey: DEFAULT_API_KEY,
    addTeam: (key, name) => state.addTeam(key, name),
    addUser: (input) => state.addUser(input),
    addApiKey: (input) => state.addApiKey(input),
    revokeApiKey: (key) => {
      const index = state.apiKeys.findIndex((k) => k.key === key);
      if (index >= 0) {
        state.apiKeys.splice(index, 1);
      }
    },
    createIssue: (seed) => {
      const issue = state.createIssue(seed);
      return { ...issue, identifier: state.identifier(issue) };
    },
    moveIssue: (identifier, stateName) => {
      const issue = state.issue(identifier);
      const previous = { stateId: issue.stateId, updatedAt: new Date(issue.updatedAt).toISOString() };
      issue.stateId = state.stateByName(issue.teamId, stateName).id;
      state.touch(issue);
      return send("update", issue, previous);
    },
    assignIssue: (identifier, email) => {
      const issue = state.issue(identifier);
      const previous = { assigneeId: issue.assigneeId, updatedAt: new Date(issue.updatedAt).toISOString() };
      state.setAssignee(issue, email);
      return send("update", issue, previous);
    },
    deleteIssue: (identifier) => {
      const issue = state.issue(identifier);
      state.issues.delete(issue.id);
      return send("remove", issue, undefined);
    },
    // Linear stamps each attempt afresh, so a retry passes the receiver's freshness check.
    ...webhookControls(webhooks, (body) => JSON.stringify({ ...JSON.parse(body), webhookTimestamp: now() })),
    ...providerControls<LinearOperation>(server),
  };
}
