import { durationProblem, type FlowRules, type FlowTarget, offeredDurations } from "@keyturn/core";
import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from "@slack/web-api";
import { formatDuration } from "../durations.js";
import { escapeMrkdwn, plainText, truncate } from "../escape.js";
import { context, rulesSummary } from "./common.js";
import { REQUEST_MODAL } from "./ids.js";

export type RequestableFlow = { name: string; version: number; rules: FlowRules };

export type RequestPrefill = {
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  target?: FlowTarget;
};

/**
 * What the submit handler needs to check the form without a database round trip, so that inline
 * errors go back inside Slack's 3 seconds. Slack stores it with the view; the use case checks the
 * same rules again against the current flow version.
 */
export type RequestModalMetadata = {
  flow: string;
  version: number;
  maxSeconds: number;
  /** Absent in modals opened before flows had them: a second, and anything within the bounds. */
  minSeconds?: number;
  offeredSeconds?: number[];
  reason: { required: boolean; pattern?: string | undefined };
  ticket: { required: boolean; pattern?: string | undefined };
  targets: FlowTarget[];
};

export function modalMetadata(flow: RequestableFlow): RequestModalMetadata {
  const { rules } = flow;
  return {
    flow: flow.name,
    version: flow.version,
    maxSeconds: rules.maxDurationSeconds,
    ...(rules.minDurationSeconds === undefined ? {} : { minSeconds: rules.minDurationSeconds }),
    ...(rules.offeredDurationsSeconds === undefined ? {} : { offeredSeconds: rules.offeredDurationsSeconds }),
    reason: rules.reason,
    ticket: rules.ticket,
    targets: rules.targets,
  };
}

export const targetValue = (target: FlowTarget) => `${target.accountId}/${target.permissionSetName}`;

function option(text: string, value: string, description?: string): PlainTextOption {
  return {
    text: plainText(text, 75),
    value,
    ...(description === undefined ? {} : { description: plainText(description, 75) }),
  };
}

function flowOption(flow: RequestableFlow): PlainTextOption {
  const first = flow.rules.targets[0];
  const where =
    flow.rules.targets.length === 1 && first !== undefined
      ? `${first.permissionSetName} in ${first.accountId}`
      : `${flow.rules.targets.length} targets`;
  return option(
    flow.rules.title,
    flow.name,
    `${flow.name} · ${where} · max ${formatDuration(flow.rules.maxDurationSeconds)}`,
  );
}

function patternHint(pattern: string | undefined, fallback: string): string {
  return pattern === undefined ? fallback : `Must match: ${pattern}`;
}

/** A checked ticket says what it must be; Keyturn looks it up when the form is sent. */
function ticketHint(rule: RequestableFlow["rules"]["ticket"]): string {
  const check = rule.check;
  if (check === undefined) {
    return patternHint(rule.pattern, "An incident or change ticket, if there is one.");
  }
  const example = check.provider === "jira" ? "OPS-123" : "ENG-42";
  const where =
    check.projects === undefined || check.projects.length === 0 ? "" : ` from ${check.projects.join(", ")}`;
  const mine = check.assignedToRequester === true ? ", assigned to you" : "";
  return `An open ${check.provider === "jira" ? "Jira" : "Linear"} issue${where}${mine} (like ${example}, or its link). Your access ends when it closes.`;
}

/**
 * The `/access` modal for one selected flow among those the user may request. Changing the flow
 * select sends a block action and the modal is rebuilt for the new flow (its targets, durations
 * and reason/ticket rules differ).
 */
export function requestModal(input: {
  flows: RequestableFlow[];
  selected: RequestableFlow;
  prefill?: RequestPrefill;
  notice?: string;
}): ModalView {
  const { selected, prefill = {} } = input;
  const { rules } = selected;
  const { blocks: ids, actions } = REQUEST_MODAL;
  const flowOptions = input.flows.map(flowOption);
  const selectedOption = flowOption(selected);
  const blocks: KnownBlock[] = [];
  if (input.notice !== undefined) {
    blocks.push(context([`:warning: ${escapeMrkdwn(input.notice)}`], "notice"));
  }
  blocks.push({
    type: "input",
    block_id: ids.flow,
    dispatch_action: true,
    label: plainText("What do you need?"),
    element: {
      type: "static_select",
      action_id: actions.flow,
      options: flowOptions,
      initial_option: selectedOption,
    },
  });
  const about = [rulesSummary(rules)];
  if (rules.description !== undefined && rules.description !== "") {
    about.unshift(escapeMrkdwn(truncate(rules.description, 1000)));
  }
  blocks.push(context(about, "flow_rules"));

  if (rules.targets.length > 1) {
    const targetOptions = rules.targets.map((t) =>
      option(`${t.permissionSetName} in ${t.accountId}`, targetValue(t)),
    );
    const wanted = prefill.target;
    const initial =
      wanted === undefined ? undefined : targetOptions.find((o) => o.value === targetValue(wanted));
    const target: InputBlock = {
      type: "input",
      block_id: ids.target,
      label: plainText("Account and permission set"),
      element: {
        type: "static_select",
        action_id: actions.target,
        options: targetOptions,
        ...(initial === undefined ? {} : { initial_option: initial }),
      },
    };
    blocks.push(target);
  }

  const requested = prefill.durationSeconds;
  const choices = offeredDurations(rules, requested);
  const durationOptions = choices.map((s) => option(formatDuration(s), String(s)));
  const initialSeconds =
    requested !== undefined && durationProblem(rules, requested) === null
      ? requested
      : rules.defaultDurationSeconds;
  const initialDuration = durationOptions.find((o) => o.value === String(initialSeconds));
  blocks.push({
    type: "input",
    block_id: ids.duration,
    label: plainText("For how long?"),
    hint: plainText(
      `The clock starts when access is granted. ${
        rules.minDurationSeconds === undefined
          ? `At most ${formatDuration(rules.maxDurationSeconds)}.`
          : `From ${formatDuration(rules.minDurationSeconds)} to ${formatDuration(rules.maxDurationSeconds)}.`
      }`,
    ),
    element: {
      type: "static_select",
      action_id: actions.duration,
      options: durationOptions,
      ...(initialDuration === undefined ? {} : { initial_option: initialDuration }),
    },
  });

  blocks.push({
    type: "input",
    block_id: ids.reason,
    optional: !rules.reason.required,
    label: plainText(rules.reason.required ? "Why? (required)" : "Why?"),
    hint: plainText(patternHint(rules.reason.pattern, "Approvers see this. Say what you will do.")),
    element: {
      type: "plain_text_input",
      action_id: actions.reason,
      multiline: true,
      max_length: 2000,
      ...(prefill.reason === undefined || prefill.reason === ""
        ? {}
        : { initial_value: truncate(prefill.reason, 2000) }),
    },
  });
  blocks.push({
    type: "input",
    block_id: ids.ticket,
    optional: !rules.ticket.required,
    label: plainText(rules.ticket.required ? "Ticket (required)" : "Ticket"),
    hint: plainText(ticketHint(rules.ticket)),
    element: {
      type: "plain_text_input",
      action_id: actions.ticket,
      max_length: 200,
      ...(prefill.ticket === undefined || prefill.ticket === ""
        ? {}
        : { initial_value: truncate(prefill.ticket, 200) }),
    },
  });

  return {
    type: "modal",
    callback_id: REQUEST_MODAL.callbackId,
    title: plainText("Request AWS access", 24),
    submit: plainText(selected.rules.breakGlass ? "Break glass" : "Request", 24),
    close: plainText("Cancel", 24),
    private_metadata: JSON.stringify(modalMetadata(selected)),
    blocks,
  };
}
