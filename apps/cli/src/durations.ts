// Durations as people type them: "1h", "30m", "1h30m", "90s", "2d".
import { usageError } from "./cli-error.js";

const UNIT_SECONDS: Readonly<Record<string, number>> = { d: 86_400, h: 3600, m: 60, s: 1 };

/** Seconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+[dhms])+$/.test(trimmed)) {
    return null;
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([dhms])/g)) {
    total += Number(amount) * (UNIT_SECONDS[unit ?? "s"] ?? 1);
  }
  return total > 0 ? total : null;
}

/** For an option: seconds, or a usage error naming the option and an example. */
export function durationOption(value: string, option: string, command: string): number {
  const seconds = parseDuration(value);
  if (seconds === null) {
    throw usageError(`--${option} must be a duration such as 30m, 1h or 1h30m, got '${value}'`, command);
  }
  return seconds;
}
