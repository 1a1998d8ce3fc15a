import type { FlowRules } from "./flow-rules.js";

// How long a flow grants access for: the one set of rules the Slack modal, the API and the CLI
// offer and check durations by, so that what one of them offers the others accept.

/** What a flow offers when it names no durations of its own: these steps within its bounds. */
export const STANDARD_DURATIONS = [
  15 * 60,
  30 * 60,
  3600,
  2 * 3600,
  4 * 3600,
  8 * 3600,
  12 * 3600,
  86_400,
  2 * 86_400,
  3 * 86_400,
  7 * 86_400,
] as const;

export type DurationRules = Pick<
  FlowRules,
  "minDurationSeconds" | "maxDurationSeconds" | "defaultDurationSeconds" | "offeredDurationsSeconds"
>;

/** The shortest a flow grants: its minDurationSeconds, else a second. */
export function minDurationSeconds(rules: Pick<FlowRules, "minDurationSeconds">): number {
  return rules.minDurationSeconds ?? 1;
}

/**
 * Why a flow does not grant `seconds`, or null when it does: a whole number of seconds within the
 * flow's bounds and, when the flow names the durations it offers, one of them.
 */
export function durationProblem(
  rules: Omit<DurationRules, "defaultDurationSeconds">,
  seconds: number,
): string | null {
  const min = minDurationSeconds(rules);
  if (!Number.isInteger(seconds) || seconds < min || seconds > rules.maxDurationSeconds) {
    return `duration must be between ${min} and ${rules.maxDurationSeconds} seconds, got ${seconds}`;
  }
  const offered = rules.offeredDurationsSeconds;
  if (offered !== undefined && !offered.includes(seconds)) {
    return `duration must be one of ${offered.join(", ")} seconds, got ${seconds}`;
  }
  return null;
}

/**
 * The durations to offer, shortest first: the flow's own list, or else the standard steps within
 * its bounds plus its default and its max, and `extra` (a duration someone typed) if it is granted.
 */
export function offeredDurations(rules: DurationRules, extra?: number): number[] {
  if (rules.offeredDurationsSeconds !== undefined) {
    return [...new Set(rules.offeredDurationsSeconds)].sort((a, b) => a - b);
  }
  const min = minDurationSeconds(rules);
  const choices = new Set<number>(
    STANDARD_DURATIONS.filter((s) => s >= min && s <= rules.maxDurationSeconds),
  );
  choices.add(rules.maxDurationSeconds);
  if (durationProblem(rules, rules.defaultDurationSeconds) === null) {
    choices.add(rules.defaultDurationSeconds);
  }
  if (extra !== undefined && durationProblem(rules, extra) === null) {
    choices.add(extra);
  }
  return [...choices].sort((a, b) => a - b);
}
