import type { FlowRuleProblem } from "../flow/flow-rules.js";

// Access bound to a ticket: the request names a Jira issue or a Linear issue; it must exist, be
// in an allowed project (Jira) or team (Linear), be open and in an allowed state, and optionally
// be assigned to the requester. Each failure is a coded problem with a message the requester can
// act on. A ticket that cannot be checked is a failure too, never a pass.

export type TicketProviderName = "jira" | "linear";

/** Open: work may still happen under it. Closed: Jira's "done" category, Linear's completed/canceled. */
export type TicketStateCategory = "open" | "closed";

export type Ticket = {
  provider: TicketProviderName;
  /** The canonical key: "OPS-123" (Jira), "ENG-42" (Linear). */
  key: string;
  title: string;
  url: string;
  /** The Jira project key or the Linear team key. */
  project: string;
  state: {
    name: string;
    category: TicketStateCategory;
    /** The provider's own word: Jira's status category key, Linear's state type. */
    providerCategory: string;
  };
  /** `email` is null when the provider hides it (Atlassian profile visibility). */
  assignee: { id: string; email: string | null } | null;
  /**
   * Whether the requester the lookup was asked about is the assignee, as the adapter could tell
   * without an email (by account); undefined when it was not asked or could not tell.
   */
  assigneeIsRequester?: boolean;
};

export type TicketCheckFailure = "timeout" | "unavailable" | "rate_limited" | "malformed" | "auth";

export type TicketLookup =
  | { kind: "found"; ticket: Ticket; checkedAt: Date }
  | { kind: "not_found"; key: string; checkedAt: Date }
  /** The text is not a key of this provider; nothing was asked. */
  | { kind: "invalid_key"; input: string }
  | { kind: "check_failed"; key: string; reason: TicketCheckFailure; detail: string; checkedAt: Date };

/** The port a ticket provider's adapter implements. */
export type TicketProvider = {
  readonly name: TicketProviderName;
  /** Asks the provider now; never throws (failures are `check_failed`). */
  lookup(input: string, options?: { requesterEmail?: string }): Promise<TicketLookup>;
};

/** What a verified webhook says about a ticket. */
export type TicketWebhookEvent = {
  provider: TicketProviderName;
  key: string;
  /** The ticket is closed (or deleted) now: access bound to it should end. */
  closed: boolean;
  deleted: boolean;
  state: { name: string; category: TicketStateCategory } | null;
  /** The provider's delivery id (the same on its retries), for recognising a repeat. */
  deliveryId: string | null;
  /** When the provider says it sent the event. */
  sentAt: Date | null;
};

export type WebhookRejection =
  | "missing_signature"
  | "bad_signature"
  | "stale_timestamp"
  | "malformed_body"
  | "body_too_large";

export type WebhookVerification =
  /** `event` is null for a genuine delivery about something else (a comment, a label). */
  { ok: true; event: TicketWebhookEvent | null } | { ok: false; reason: WebhookRejection; message: string };

/** What a flow asks of the ticket a request names. */
export type TicketRequirement = {
  provider: TicketProviderName;
  /** Allowed Jira project keys / Linear team keys; omitted or empty: any. */
  projects?: string[];
  /** Allowed state names (any case); omitted or empty: any open state. Closed is never allowed. */
  states?: string[];
  /** The requester must be the ticket's assignee. */
  assignedToRequester?: boolean;
};

export type TicketProblemCode =
  | "TICKET_INVALID_KEY"
  | "TICKET_NOT_FOUND"
  | "TICKET_CHECK_FAILED"
  | "TICKET_WRONG_PROVIDER"
  | "TICKET_WRONG_PROJECT"
  | "TICKET_CLOSED"
  | "TICKET_STATE_NOT_ALLOWED"
  | "TICKET_NOT_ASSIGNED_TO_REQUESTER"
  | "TICKET_ASSIGNEE_UNVERIFIED";

export type TicketProblem = { code: TicketProblemCode; message: string };

export type TicketValidation = { ok: true; ticket: Ticket } | { ok: false; problems: TicketProblem[] };

const PROVIDER_LABEL: Readonly<Record<TicketProviderName, string>> = { jira: "Jira", linear: "Linear" };

// Jira project keys: an upper-case letter, then upper-case letters, digits or underscores.
// Linear team keys: up to 7 upper-case letters or digits. Issue numbers start at 1.
const KEY_PATTERN: Readonly<Record<TicketProviderName, RegExp>> = {
  jira: /^[A-Z][A-Z0-9_]{1,254}-[1-9][0-9]{0,17}$/,
  linear: /^[A-Z][A-Z0-9]{0,6}-[1-9][0-9]{0,8}$/,
};

// A pasted link is accepted for its key: Jira's /browse/KEY, Linear's /issue/KEY/slug.
const LINK_PATTERN: Readonly<Record<TicketProviderName, RegExp>> = {
  jira: /^https:\/\/[^/\s]+\/browse\/([A-Za-z][A-Za-z0-9_]*-\d+)(?:[/?#].*)?$/,
  linear: /^https:\/\/linear\.app\/[^/\s]+\/issue\/([A-Za-z][A-Za-z0-9]*-\d+)(?:[/?#].*)?$/,
};

/** The canonical key in what a requester typed or pasted, or null when it names no issue. */
export function normalizeTicketKey(provider: TicketProviderName, input: string): string | null {
  const trimmed = input.trim();
  const fromLink = LINK_PATTERN[provider].exec(trimmed)?.[1];
  const key = (fromLink ?? trimmed).toUpperCase();
  return KEY_PATTERN[provider].test(key) ? key : null;
}

function same(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: "accent" }) === 0;
}

function list(values: readonly string[]): string {
  return values.join(", ");
}

/**
 * Judges a looked-up ticket against a flow's requirement. Every failing condition is reported,
 * so a requester fixes them in one go.
 */
export function validateTicket(input: {
  lookup: TicketLookup;
  requirement: TicketRequirement;
  requesterEmail: string;
}): TicketValidation {
  const { lookup, requirement, requesterEmail } = input;
  const label = PROVIDER_LABEL[requirement.provider];
  const fail = (code: TicketProblemCode, message: string): TicketValidation => ({
    ok: false,
    problems: [{ code, message }],
  });
  switch (lookup.kind) {
    case "invalid_key":
      return fail(
        "TICKET_INVALID_KEY",
        `"${lookup.input.slice(0, 100)}" is not a ${label} issue key (like ${requirement.provider === "jira" ? "OPS-123" : "ENG-42"}).`,
      );
    case "not_found":
      return fail(
        "TICKET_NOT_FOUND",
        `${lookup.key} was not found in ${label}, or Keyturn is not allowed to see it.`,
      );
    case "check_failed":
      return fail(
        "TICKET_CHECK_FAILED",
        `Keyturn could not check ${lookup.key} in ${label} (${lookup.reason.replace("_", " ")}); try again in a moment.`,
      );
    case "found":
      break;
  }
  const { ticket } = lookup;
  if (ticket.provider !== requirement.provider) {
    return fail(
      "TICKET_WRONG_PROVIDER",
      `${ticket.key} is a ${PROVIDER_LABEL[ticket.provider]} issue; this flow needs a ${label} one.`,
    );
  }
  const problems: TicketProblem[] = [];
  const projects = requirement.projects ?? [];
  if (projects.length > 0 && !projects.some((p) => same(p, ticket.project))) {
    problems.push({
      code: "TICKET_WRONG_PROJECT",
      message: `${ticket.key} is in ${requirement.provider === "jira" ? "project" : "team"} ${ticket.project}; this flow accepts tickets from ${list(projects)}.`,
    });
  }
  const states = requirement.states ?? [];
  if (ticket.state.category === "closed") {
    problems.push({ code: "TICKET_CLOSED", message: `${ticket.key} is closed (${ticket.state.name}).` });
  } else if (states.length > 0 && !states.some((s) => same(s, ticket.state.name))) {
    problems.push({
      code: "TICKET_STATE_NOT_ALLOWED",
      message: `${ticket.key} is in state ${ticket.state.name}; this flow accepts tickets in ${list(states)}.`,
    });
  }
  if (requirement.assignedToRequester === true) {
    const problem = assigneeProblem(ticket, requesterEmail);
    if (problem !== undefined) {
      problems.push(problem);
    }
  }
  return problems.length === 0 ? { ok: true, ticket } : { ok: false, problems };
}

function assigneeProblem(ticket: Ticket, requesterEmail: string): TicketProblem | undefined {
  if (ticket.assignee === null) {
    return {
      code: "TICKET_NOT_ASSIGNED_TO_REQUESTER",
      message: `${ticket.key} is not assigned to anyone; it must be assigned to you.`,
    };
  }
  const byEmail =
    ticket.assignee.email === null ? undefined : same(ticket.assignee.email.trim(), requesterEmail.trim());
  const isRequester = byEmail ?? ticket.assigneeIsRequester;
  if (isRequester === true) {
    return undefined;
  }
  if (isRequester === false) {
    return {
      code: "TICKET_NOT_ASSIGNED_TO_REQUESTER",
      message: `${ticket.key} is assigned to someone else; it must be assigned to you.`,
    };
  }
  return {
    code: "TICKET_ASSIGNEE_UNVERIFIED",
    message: `Keyturn could not confirm that ${ticket.key} is assigned to you (the assignee's email is hidden by their profile settings).`,
  };
}

/** Problems with a ticket requirement as an admin wrote it (paths relative to the requirement). */
export function checkTicketRequirement(requirement: TicketRequirement): FlowRuleProblem[] {
  const problems: FlowRuleProblem[] = [];
  const projectKey = requirement.provider === "jira" ? /^[A-Z][A-Z0-9_]{1,254}$/ : /^[A-Z][A-Z0-9]{0,6}$/;
  (requirement.projects ?? []).forEach((project, i) => {
    if (!projectKey.test(project)) {
      problems.push({
        path: `projects[${i}]`,
        message: `"${project}" is not a ${PROVIDER_LABEL[requirement.provider]} ${requirement.provider === "jira" ? "project" : "team"} key`,
      });
    }
  });
  (requirement.states ?? []).forEach((state, i) => {
    if (state.trim() === "") {
      problems.push({ path: `states[${i}]`, message: "a state name cannot be empty" });
    }
  });
  return problems;
}
