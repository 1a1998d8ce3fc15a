import {
  compilePattern,
  describeTextProblem,
  durationProblem,
  type FlowTarget,
  minDurationSeconds,
  textProblem,
} from "@keyturn/core";
import { REQUEST_MODAL } from "./blocks/ids.js";
import type { RequestModalMetadata } from "./blocks/request-modal.js";
import { formatDuration } from "./durations.js";

/** `view.state.values` as Slack sends it: block id -> action id -> element state. */
export type ViewStateValues = Record<
  string,
  Record<string, { type?: string; value?: string | null; selected_option?: { value?: string } | null }>
>;

export type RequestFormInput = {
  flowName: string;
  target?: FlowTarget;
  durationSeconds: number;
  reason: string;
  ticket?: string;
};

export type RequestFormResult =
  | { ok: true; input: RequestFormInput }
  | { ok: false; errors: Record<string, string> };

function stateValue(values: ViewStateValues, block: string, action: string): string | undefined {
  const state = values[block]?.[action];
  const raw = state?.selected_option?.value ?? state?.value ?? undefined;
  return raw === null || raw === undefined ? undefined : raw;
}

/**
 * Checks a submitted request form against the rules it was opened with, answering per block so
 * Slack shows each problem under its field. The use case checks again; this is for the person.
 */
export function readRequestForm(values: ViewStateValues, meta: RequestModalMetadata): RequestFormResult {
  const { blocks, actions } = REQUEST_MODAL;
  const errors: Record<string, string> = {};
  const flowName = stateValue(values, blocks.flow, actions.flow) ?? meta.flow;
  if (flowName !== meta.flow) {
    // The flow select changed but the modal was not rebuilt for it (yet): its rules are unknown.
    errors[blocks.flow] = "The form is still loading this flow; try again in a moment.";
  }

  let target: FlowTarget | undefined;
  if (meta.targets.length > 1) {
    const raw = stateValue(values, blocks.target, actions.target);
    target = meta.targets.find((t) => `${t.accountId}/${t.permissionSetName}` === raw);
    if (target === undefined) {
      errors[blocks.target] = "Choose the account and permission set you need.";
    }
  }

  const rawDuration = stateValue(values, blocks.duration, actions.duration);
  const durationSeconds = rawDuration === undefined ? Number.NaN : Number(rawDuration);
  const bounds = {
    maxDurationSeconds: meta.maxSeconds,
    ...(meta.minSeconds === undefined ? {} : { minDurationSeconds: meta.minSeconds }),
    ...(meta.offeredSeconds === undefined ? {} : { offeredDurationsSeconds: meta.offeredSeconds }),
  };
  if (!Number.isInteger(durationSeconds) || durationSeconds <= 0) {
    errors[blocks.duration] = "Choose how long you need access for.";
  } else if (durationSeconds > meta.maxSeconds) {
    errors[blocks.duration] =
      `${formatDuration(durationSeconds)} is longer than this flow allows: at most ${formatDuration(meta.maxSeconds)}.`;
  } else if (durationProblem(bounds, durationSeconds) !== null) {
    errors[blocks.duration] =
      meta.offeredSeconds === undefined
        ? `${formatDuration(durationSeconds)} is shorter than this flow allows: at least ${formatDuration(minDurationSeconds(bounds))}.`
        : `This flow grants ${meta.offeredSeconds.map(formatDuration).join(", ")}: choose one of them.`;
  }

  const reason = (stateValue(values, blocks.reason, actions.reason) ?? "").trim();
  const reasonProblem = textProblem(reason, { multiline: true });
  if (reasonProblem !== null) {
    errors[blocks.reason] = `The reason ${describeTextProblem(reasonProblem)}: remove it and try again.`;
  } else if (meta.reason.required && reason === "") {
    errors[blocks.reason] = "This flow needs a reason: say what you need the access for.";
  } else if (reason !== "" && meta.reason.pattern !== undefined) {
    if (compilePattern(meta.reason.pattern)?.test(reason) !== true) {
      errors[blocks.reason] = `The reason must match ${meta.reason.pattern}.`;
    }
  }

  const ticket = (stateValue(values, blocks.ticket, actions.ticket) ?? "").trim();
  const ticketProblem = textProblem(ticket);
  if (ticketProblem !== null) {
    errors[blocks.ticket] = `The ticket ${describeTextProblem(ticketProblem)}: remove it and try again.`;
  } else if (meta.ticket.required && ticket === "") {
    errors[blocks.ticket] = "This flow needs a ticket.";
  } else if (ticket !== "" && meta.ticket.pattern !== undefined) {
    if (compilePattern(meta.ticket.pattern)?.test(ticket) !== true) {
      errors[blocks.ticket] = `The ticket must match ${meta.ticket.pattern}.`;
    }
  }

  if (Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    input: {
      flowName,
      durationSeconds,
      reason,
      ...(target === undefined ? {} : { target }),
      ...(ticket === "" ? {} : { ticket }),
    },
  };
}
