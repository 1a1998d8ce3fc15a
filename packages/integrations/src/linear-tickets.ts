import { normalizeTicketKey, type Ticket, type TicketLookup, type TicketProvider } from "@keyturn/core";
import { LinearClient, LinearError, LinearErrorType } from "@linear/sdk";
import { z } from "zod";
import { withDeadline } from "./deadline.js";
import { failedLookup, TicketCheckFailed } from "./ticket-lookup.js";

// A Linear issue looked up by identifier through @linear/sdk's own GraphQL client, asking in one
// query for exactly what the check reads (the SDK's generated models would take a request per
// relation: state, team, assignee). The answer is validated here.

export type LinearTicketsOptions = {
  /** A personal API key (read access is enough), sent as Linear documents: `Authorization: <key>`. */
  apiKey: string;
  /** Default https://api.linear.app/graphql; loopback in tests. */
  apiUrl?: string;
  /** The bound on one lookup. Default 5000 ms. */
  timeoutMs?: number;
  now?: () => Date;
};

const ISSUE_QUERY = `
  query KeyturnTicket($id: String!) {
    issue(id: $id) {
      identifier
      title
      url
      state { name type }
      team { key }
      assignee { id email }
    }
  }`;

const CLOSED_TYPES = new Set(["completed", "canceled"]);
const OPEN_TYPES = new Set(["triage", "backlog", "unstarted", "started"]);

const LinearIssue = z.object({
  issue: z.object({
    identifier: z.string().min(1),
    title: z.string(),
    url: z.string().startsWith("https://"),
    state: z.object({ name: z.string().min(1), type: z.string() }),
    team: z.object({ key: z.string().min(1) }),
    assignee: z.object({ id: z.string().min(1), email: z.string().min(3) }).nullable(),
  }),
});

function isNotFound(error: LinearError): boolean {
  return (
    error.type === LinearErrorType.InvalidInput &&
    (error.errors ?? []).some((e) => /not found|could not find/i.test(`${e.message}`))
  );
}

function classify(error: unknown): TicketCheckFailed | undefined {
  if (error instanceof LinearError) {
    switch (error.type) {
      case LinearErrorType.AuthenticationError:
      case LinearErrorType.Forbidden:
        return new TicketCheckFailed("auth", `Linear refused the API key (${error.type})`);
      case LinearErrorType.Ratelimited:
        return new TicketCheckFailed("rate_limited", "Linear is rate-limiting this API key");
      case LinearErrorType.NetworkError:
      case LinearErrorType.InternalError:
      case LinearErrorType.LockTimeout:
        return new TicketCheckFailed(
          "unavailable",
          `Linear answered ${error.status ?? "without a status"} (${error.type})`,
        );
      default:
        return new TicketCheckFailed("malformed", `Linear answered an unexpected ${error.type} error`);
    }
  }
  if (error instanceof SyntaxError) {
    return new TicketCheckFailed("malformed", "Linear's answer is not JSON");
  }
  return undefined;
}

export function createLinearTickets(options: LinearTicketsOptions): TicketProvider {
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => new Date());

  async function lookup(input: string): Promise<TicketLookup> {
    const key = normalizeTicketKey("linear", input);
    if (key === null) {
      return { kind: "invalid_key", input };
    }
    const checkedAt = now();
    try {
      return await withDeadline(timeoutMs, async (signal) => {
        // A client per lookup: the SDK passes its options (this deadline's signal) to fetch.
        const linear = new LinearClient({
          apiKey: options.apiKey,
          ...(options.apiUrl === undefined ? {} : { apiUrl: options.apiUrl }),
          signal,
        });
        let data: unknown;
        try {
          data = (await linear.client.rawRequest(ISSUE_QUERY, { id: key })).data;
        } catch (error) {
          if (error instanceof LinearError && isNotFound(error)) {
            return { kind: "not_found", key, checkedAt } as const;
          }
          throw error;
        }
        const parsed = LinearIssue.safeParse(data);
        if (!parsed.success) {
          throw new TicketCheckFailed(
            "malformed",
            `Linear's issue answer is not as documented: ${parsed.error.issues[0]?.message ?? ""}`,
          );
        }
        const { issue } = parsed.data;
        const type = issue.state.type;
        if (!CLOSED_TYPES.has(type) && !OPEN_TYPES.has(type)) {
          // A state type Linear has not documented: open or closed would be a guess.
          throw new TicketCheckFailed("malformed", `state ${issue.state.name} has an unknown type "${type}"`);
        }
        const ticket: Ticket = {
          provider: "linear",
          key: issue.identifier,
          title: issue.title,
          url: issue.url,
          project: issue.team.key,
          state: {
            name: issue.state.name,
            category: CLOSED_TYPES.has(type) ? "closed" : "open",
            providerCategory: type,
          },
          assignee: issue.assignee === null ? null : { id: issue.assignee.id, email: issue.assignee.email },
        };
        return { kind: "found", ticket, checkedAt } as const;
      });
    } catch (error) {
      return failedLookup(key, checkedAt, error, classify);
    }
  }

  return { name: "linear", lookup };
}
