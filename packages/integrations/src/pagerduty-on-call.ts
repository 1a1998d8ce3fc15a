import type {
  OnCallCheck,
  OnCallCheckFailure,
  OnCallEvidence,
  OnCallProvider,
  OnCallQuery,
  OnCallShift,
} from "@keyturn/core";
import { api } from "@pagerduty/pdjs";
import { z } from "zod";
import { DeadlineExceeded, describeFailure, withDeadline } from "./deadline.js";

// "Is this person on call right now in one of these schedules or escalation policies, and until
// when?" asked of PagerDuty's REST API v2 through @pagerduty/pdjs. The answer is read from the
// on-call entries themselves (GET /oncalls with include[]=users), matching the requester by the
// email PagerDuty holds for each listed user; nothing depends on how /users?query= matches.
// Every answer is fresh: no cache, so a shift that ended can never approve anyone.

export type PagerDutyOnCallOptions = {
  /** A read-only REST API key (or a scoped OAuth token with oncalls.read and users.read). */
  token: string;
  /** https://api.pagerduty.com (default) or https://api.eu.pagerduty.com; loopback in tests. */
  baseUrl?: string;
  /** The bound on the whole check, every page included. Default 5000 ms. */
  timeoutMs?: number;
  /** pdjs retries a 429 three times after this pause; the deadline still bounds the whole. */
  rateLimitRetryDelayMs?: number;
  /** A page lists at most 100 entries; past this many pages the answer is not trusted. */
  maxPages?: number;
  now?: () => Date;
};

const DEFAULT_BASE_URL = "https://api.pagerduty.com";
const PAGE_LIMIT = 100;

// PagerDuty renders times with an explicit offset ("2026-03-02T06:00:00-05:00" or "...Z").
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const Time = z
  .string()
  .regex(ZONED_TIME)
  .refine((value) => !Number.isNaN(Date.parse(value)));
const Reference = z.object({
  id: z.string().min(1),
  summary: z.string().optional(),
  name: z.string().optional(),
});
const OnCallEntry = z.object({
  // include[]=users asked for the whole user; without its email nobody can be matched.
  user: z.object({ id: z.string().min(1), email: z.string().min(3) }),
  schedule: Reference.nullable().optional(),
  escalation_policy: Reference,
  escalation_level: z.number().int().min(1),
  start: Time.nullable(),
  end: Time.nullable(),
});
const OnCallPage = z.object({
  oncalls: z.array(OnCallEntry),
  more: z.boolean(),
  offset: z.number().int().min(0),
  limit: z.number().int().min(1),
});
type Entry = z.infer<typeof OnCallEntry>;

/** A failed check, carried through the page loop as a thrown value and returned as data. */
class CheckFailed extends Error {
  readonly reason: OnCallCheckFailure;
  constructor(reason: OnCallCheckFailure, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

type PdResponse = { status: number; data?: unknown };

function isResponse(value: unknown): value is PdResponse {
  return (
    typeof value === "object" && value !== null && typeof (value as { status?: unknown }).status === "number"
  );
}

function failureForStatus(status: number): CheckFailed {
  if (status === 401 || status === 403) {
    return new CheckFailed("auth", `PagerDuty answered HTTP ${status}`);
  }
  if (status === 429) {
    return new CheckFailed("rate_limited", "PagerDuty answered HTTP 429 after pdjs's retries");
  }
  if (status >= 500) {
    return new CheckFailed("unavailable", `PagerDuty answered HTTP ${status}`);
  }
  return new CheckFailed("misconfigured", `PagerDuty answered HTTP ${status}`);
}

function classify(error: unknown, timeoutMs: number): CheckFailed {
  if (error instanceof CheckFailed) {
    return error;
  }
  if (error instanceof DeadlineExceeded) {
    return new CheckFailed("timeout", `PagerDuty gave no answer within ${timeoutMs} ms`);
  }
  if (isResponse(error)) {
    // pdjs rejects with the response itself when its body is not JSON (or was cut off).
    return new CheckFailed(
      "malformed",
      `PagerDuty answered HTTP ${error.status} with a body that is not JSON`,
    );
  }
  if (error instanceof Error && error.name === "AbortError") {
    return new CheckFailed("timeout", `PagerDuty gave no answer within ${timeoutMs} ms`);
  }
  return new CheckFailed("unavailable", describeFailure(error));
}

function toShift(entry: Entry, matchedBy: OnCallShift["matchedBy"]): OnCallShift {
  const name = (ref: z.infer<typeof Reference>) => ref.summary ?? ref.name ?? ref.id;
  return {
    matchedBy,
    schedule: entry.schedule == null ? null : { id: entry.schedule.id, name: name(entry.schedule) },
    escalationPolicy: { id: entry.escalation_policy.id, name: name(entry.escalation_policy) },
    escalationLevel: entry.escalation_level,
    startsAt: entry.start === null ? null : new Date(entry.start),
    endsAt: entry.end === null ? null : new Date(entry.end),
  };
}

export function createPagerDutyOnCall(options: PagerDutyOnCallOptions): OnCallProvider {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxPages = options.maxPages ?? 10;
  const now = options.now ?? (() => new Date());

  /** Every entry of one filtered GET /oncalls at `at`, all pages. */
  async function listOnCalls(
    filter: { name: "schedule_ids[]" | "escalation_policy_ids[]"; ids: readonly string[] },
    at: string,
    signal: AbortSignal,
  ): Promise<Entry[]> {
    const entries: Entry[] = [];
    let offset = 0;
    for (let page = 0; ; page++) {
      if (page === maxPages) {
        throw new CheckFailed("malformed", `PagerDuty kept paging past ${maxPages} pages`);
      }
      const response = (await api({
        token: options.token,
        url: `${baseUrl}/oncalls`,
        data: {
          [filter.name]: [...filter.ids],
          "include[]": ["users"],
          since: at,
          until: at,
          limit: String(PAGE_LIMIT),
          offset: String(offset),
        },
        signal,
        retryTimeout: options.rateLimitRetryDelayMs ?? 250,
      })) as PdResponse;
      if (response.status !== 200) {
        throw failureForStatus(response.status);
      }
      const parsed = OnCallPage.safeParse(response.data);
      if (!parsed.success) {
        throw new CheckFailed(
          "malformed",
          `PagerDuty's on-call page is not as documented: ${parsed.error.issues[0]?.message ?? ""}`,
        );
      }
      entries.push(...parsed.data.oncalls);
      if (!parsed.data.more) {
        return entries;
      }
      if (parsed.data.oncalls.length === 0) {
        throw new CheckFailed("malformed", "PagerDuty said more on-calls follow but sent an empty page");
      }
      offset = parsed.data.offset + parsed.data.oncalls.length;
    }
  }

  async function check(query: OnCallQuery): Promise<OnCallCheck> {
    const checkedAt = now();
    if (query.schedules.length === 0 && query.escalationPolicies.length === 0) {
      return {
        kind: "check_failed",
        checkedAt,
        reason: "misconfigured",
        detail: "no schedule or escalation policy to check",
      };
    }
    const email = query.email.trim().toLowerCase();
    const at = checkedAt.toISOString();
    const filters = [
      { name: "schedule_ids[]", ids: query.schedules, matchedBy: "schedule" },
      { name: "escalation_policy_ids[]", ids: query.escalationPolicies, matchedBy: "escalation_policy" },
    ] as const;
    const requests = filters
      .filter((f) => f.ids.length > 0)
      .map((f) => `GET /oncalls?${f.name}=${f.ids.join(",")}&include[]=users&since=${at}&until=${at}`);

    let listed: { entries: Entry[]; matchedBy: OnCallShift["matchedBy"] }[];
    try {
      listed = await withDeadline(timeoutMs, (signal) =>
        Promise.all(
          filters
            .filter((f) => f.ids.length > 0)
            .map(async (f) => ({ entries: await listOnCalls(f, at, signal), matchedBy: f.matchedBy })),
        ),
      );
    } catch (error) {
      const failure = classify(error, timeoutMs);
      return { kind: "check_failed", checkedAt, reason: failure.reason, detail: failure.message };
    }

    const instant = checkedAt.getTime();
    const covers = (entry: Entry) =>
      (entry.start === null || Date.parse(entry.start) <= instant) &&
      (entry.end === null || Date.parse(entry.end) > instant);
    const levelOk = (entry: Entry) =>
      query.maxEscalationLevel === undefined || entry.escalation_level <= query.maxEscalationLevel;
    // PagerDuty filtered already; checked again so an over-broad answer cannot approve anyone.
    const inScope = (entry: Entry, matchedBy: OnCallShift["matchedBy"]) =>
      matchedBy === "schedule"
        ? entry.schedule != null && query.schedules.includes(entry.schedule.id)
        : query.escalationPolicies.includes(entry.escalation_policy.id);

    const matching = listed.flatMap(({ entries, matchedBy }) =>
      entries
        .filter(
          (e) =>
            e.user.email.trim().toLowerCase() === email && covers(e) && levelOk(e) && inScope(e, matchedBy),
        )
        .map((entry) => ({ entry, shift: toShift(entry, matchedBy) })),
    );
    const evidence: OnCallEvidence = {
      provider: "pagerduty",
      providerUserId: matching[0]?.entry.user.id ?? null,
      request: requests.join(" ; "),
      entries: matching.map(({ entry }) => ({
        schedule: entry.schedule?.id ?? null,
        escalationPolicy: entry.escalation_policy.id,
        escalationLevel: entry.escalation_level,
        start: entry.start,
        end: entry.end,
      })),
      entriesSeen: listed.reduce((sum, l) => sum + l.entries.length, 0),
    };
    if (matching.length === 0) {
      return { kind: "not_on_call", checkedAt, evidence };
    }
    // On call until the latest end among the matching entries (no end beats any end).
    const end = (shift: OnCallShift) => shift.endsAt?.getTime() ?? Number.POSITIVE_INFINITY;
    const ordered = [...matching].sort((a, b) =>
      end(a.shift) === end(b.shift) ? 0 : end(a.shift) > end(b.shift) ? -1 : 1,
    );
    const shifts = ordered.map((m) => m.shift);
    return { kind: "on_call", checkedAt, shift: shifts[0] as OnCallShift, shifts, evidence };
  }

  return { name: "pagerduty", check };
}
