import { normalizeTicketKey, type Ticket, type TicketLookup, type TicketProvider } from "@keyturn/core";
import {
  createCloudClient,
  isAuthError,
  isForbiddenError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
} from "jira.js";
import { z } from "zod";
import { describeFailure, withDeadline } from "./deadline.js";
import { failedLookup, TicketCheckFailed } from "./ticket-lookup.js";

// A Jira Cloud issue looked up through jira.js (GET /rest/api/3/issue/{key} with only the fields
// the check reads), its answer validated here: jira.js hands back unvalidated bodies when its
// own schema does not match, so nothing below trusts a shape it did not check.

export type JiraTicketsOptions = {
  /** The site, e.g. https://acme.atlassian.net. */
  siteUrl: string;
  /** The account the API token belongs to (Basic auth email:token). */
  email: string;
  apiToken: string;
  /** The bound on one lookup, the user search included. Default 5000 ms. */
  timeoutMs?: number;
  now?: () => Date;
};

const JiraUser = z.object({ accountId: z.string().min(1), emailAddress: z.string().optional() });
const JiraIssue = z.object({
  key: z.string().min(1),
  fields: z.object({
    summary: z.string(),
    status: z.object({
      name: z.string().min(1),
      statusCategory: z.object({ key: z.string() }),
    }),
    project: z.object({ key: z.string().min(1) }),
    assignee: JiraUser.nullable().optional(),
  }),
});

const FIELDS = ["summary", "status", "project", "assignee"];

function classify(error: unknown): TicketCheckFailed | undefined {
  if (isAuthError(error) || isForbiddenError(error)) {
    return new TicketCheckFailed(
      "auth",
      `Jira refused the credentials (${describeFailure(error).slice(0, 80)})`,
    );
  }
  if (isRateLimitError(error)) {
    return new TicketCheckFailed("rate_limited", "Jira answered HTTP 429");
  }
  if (isServerError(error)) {
    return new TicketCheckFailed("unavailable", `Jira answered HTTP ${error.status}`);
  }
  if (isNetworkError(error)) {
    return new TicketCheckFailed("unavailable", describeFailure(error));
  }
  return undefined;
}

export function createJiraTickets(options: JiraTicketsOptions): TicketProvider {
  const siteUrl = options.siteUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => new Date());
  // Schema mismatches are ours to judge (below); jira.js must not print or throw on them.
  const jira = createCloudClient({
    host: siteUrl,
    auth: { type: "basic", email: options.email, apiToken: options.apiToken },
    onSchemaMismatch: "silent",
  });

  /**
   * With the assignee's email hidden, is the requester that account? Only an unambiguous user
   * search for the requester's exact email can say; anything else is "cannot tell".
   */
  async function isRequester(
    assigneeAccountId: string,
    requesterEmail: string,
  ): Promise<boolean | undefined> {
    const found = z.array(JiraUser).safeParse(await jira.userSearch.findUsers({ query: requesterEmail }));
    if (!found.success) {
      throw new TicketCheckFailed("malformed", "Jira's user search answer is not as documented");
    }
    const candidates = found.data.filter(
      (u) => u.emailAddress === undefined || u.emailAddress.toLowerCase() === requesterEmail.toLowerCase(),
    );
    // Search also matches display names; two candidates mean the email alone did not decide.
    if (candidates.length !== 1) {
      return undefined;
    }
    return candidates[0]?.accountId === assigneeAccountId;
  }

  async function lookup(
    input: string,
    lookupOptions: { requesterEmail?: string } = {},
  ): Promise<TicketLookup> {
    const key = normalizeTicketKey("jira", input);
    if (key === null) {
      return { kind: "invalid_key", input };
    }
    const checkedAt = now();
    try {
      return await withDeadline(timeoutMs, async () => {
        let raw: unknown;
        try {
          raw = await jira.issues.getIssue({ issueIdOrKey: key, fields: FIELDS });
        } catch (error) {
          // Jira answers 404 alike for a missing issue and one this account may not browse.
          if (isNotFoundError(error)) {
            return { kind: "not_found", key, checkedAt } as const;
          }
          throw error;
        }
        const parsed = JiraIssue.safeParse(raw);
        if (!parsed.success) {
          throw new TicketCheckFailed(
            "malformed",
            `Jira's issue answer is not as documented: ${parsed.error.issues[0]?.message ?? ""}`,
          );
        }
        const { fields } = parsed.data;
        const category = fields.status.statusCategory.key;
        if (category !== "new" && category !== "indeterminate" && category !== "done") {
          // "undefined" (no category) or a key Jira has not documented: open or closed is a guess.
          throw new TicketCheckFailed(
            "malformed",
            `status ${fields.status.name} has status category "${category}"`,
          );
        }
        const assignee = fields.assignee ?? null;
        const ticket: Ticket = {
          provider: "jira",
          // A moved issue answers under its new key; that is the one to bind access to.
          key: parsed.data.key,
          title: fields.summary,
          url: `${siteUrl}/browse/${parsed.data.key}`,
          project: fields.project.key,
          state: {
            name: fields.status.name,
            category: category === "done" ? "closed" : "open",
            providerCategory: category,
          },
          assignee:
            assignee === null ? null : { id: assignee.accountId, email: assignee.emailAddress ?? null },
        };
        const requesterEmail = lookupOptions.requesterEmail?.trim();
        if (
          assignee !== null &&
          assignee.emailAddress === undefined &&
          requesterEmail !== undefined &&
          requesterEmail !== ""
        ) {
          const same = await isRequester(assignee.accountId, requesterEmail);
          if (same !== undefined) {
            ticket.assigneeIsRequester = same;
          }
        }
        return { kind: "found", ticket, checkedAt } as const;
      });
    } catch (error) {
      return failedLookup(key, checkedAt, error, classify);
    }
  }

  return { name: "jira", lookup };
}
