import {
  compilePattern,
  durationProblem,
  mayRequest,
  minDurationSeconds,
  offeredDurations,
} from "@keyturn/core";
import {
  code,
  escapeMrkdwn,
  formatDuration,
  parseDuration,
  type RequestableFlow,
  type RequestPrefill,
  requestModal,
} from "@keyturn/slack";
import type { WebClient } from "@slack/web-api";
import type { Reply } from "./reply.js";
import { actorOf, currentFlows, groupIds, type Services } from "./services.js";
import { refusalText } from "./slack-errors.js";

const ACCESS_USAGE =
  "Type `/access` to pick what you need, or pre-fill the form: `/access <flow> [duration] [reason…]`, " +
  "e.g. `/access s3-prod 2h INC-42 restore the orders table`.";

export type AccessCommandText =
  | { kind: "empty" }
  | { kind: "help" }
  | { kind: "prefill"; flow: string; durationSeconds?: number; reason: string };

/** `/access s3-prod 2h INC-42 restore` -> flow "s3-prod", 2 hours, reason "INC-42 restore". */
export function parseAccessText(text: string): AccessCommandText {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  const [flow, second, ...rest] = words;
  if (flow === undefined) {
    return { kind: "empty" };
  }
  if (flow === "help" || flow === "-h" || flow === "--help") {
    return { kind: "help" };
  }
  const seconds = second === undefined ? null : parseDuration(second);
  if (seconds === null) {
    return { kind: "prefill", flow, reason: [second, ...rest].filter((w) => w !== undefined).join(" ") };
  }
  return { kind: "prefill", flow, durationSeconds: seconds, reason: rest.join(" ") };
}

function listOf(flows: RequestableFlow[]): string {
  if (flows.length === 0) {
    return "There is nothing you may request yet; ask a Keyturn admin to add you to a flow.";
  }
  return `You may request: ${flows.map((f) => `${code(f.name)} (${escapeMrkdwn(f.rules.title)})`).join(", ")}.`;
}

/** The first reason word that fits the flow's ticket pattern is offered as the ticket. */
function ticketFrom(reason: string, flow: RequestableFlow): string | undefined {
  const pattern = flow.rules.ticket.pattern;
  if (pattern === undefined) {
    return undefined;
  }
  const re = compilePattern(pattern);
  return re === null ? undefined : reason.split(/\s+/).find((word) => re.test(word));
}

/**
 * Opens the request modal for a user (from `/access` or the Home tab): only the flows they may
 * request, pre-filled from the command text. Refusals go to `reply`.
 */
export async function openRequestModal(
  services: Services,
  input: { client: WebClient; userId: string; triggerId: string; text: string; reply: Reply },
): Promise<void> {
  const parsed = parseAccessText(input.text);
  if (parsed.kind === "help") {
    await input.reply(ACCESS_USAGE);
    return;
  }
  const flows = await currentFlows(services.db);
  const who = await services.identity.resolve(input.userId, {
    groups: flows.flatMap((f) => groupIds(f.rules.requesters)),
  });
  if (!who.ok) {
    await input.reply(refusalText(who));
    return;
  }
  const actor = actorOf(who.principal);
  const requestable = flows.filter((f) => mayRequest(f.rules, actor));
  const first = requestable[0];
  if (first === undefined) {
    await input.reply(listOf(requestable));
    return;
  }
  let selected = first;
  let prefill: RequestPrefill = {};
  let notice: string | undefined;
  if (parsed.kind === "prefill") {
    const wanted = requestable.find((f) => f.name === parsed.flow);
    if (wanted === undefined) {
      const exists = flows.some((f) => f.name === parsed.flow);
      await input.reply(
        `${exists ? "You may not request" : "There is no flow"} ${code(parsed.flow)}. ${listOf(requestable)}`,
      );
      return;
    }
    selected = wanted;
    const ticket = ticketFrom(parsed.reason, wanted);
    prefill = {
      reason: parsed.reason,
      ...(parsed.durationSeconds === undefined ? {} : { durationSeconds: parsed.durationSeconds }),
      ...(ticket === undefined ? {} : { ticket }),
    };
    if (
      parsed.durationSeconds !== undefined &&
      durationProblem(wanted.rules, parsed.durationSeconds) !== null
    ) {
      const offered = offeredDurations(wanted.rules).map(formatDuration);
      notice =
        `${wanted.rules.title} does not grant ${formatDuration(parsed.durationSeconds)}: ` +
        `${wanted.rules.offeredDurationsSeconds === undefined ? `from ${formatDuration(minDurationSeconds(wanted.rules))} to ${formatDuration(wanted.rules.maxDurationSeconds)}` : `one of ${offered.join(", ")}`}; pick one below.`;
    }
  }
  await input.client.views.open({
    trigger_id: input.triggerId,
    view: requestModal({
      flows: requestable,
      selected,
      prefill,
      ...(notice === undefined ? {} : { notice }),
    }),
  });
}
