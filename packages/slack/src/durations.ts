// Durations as people type and read them ("2h", "1h30m", "1d"), and the choices a flow offers.

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?(?:(\d+)s)?$/;

/** "2h", "90m", "1h30m", "1d" -> seconds; null for anything else (a bare number is ambiguous). */
export function parseDuration(text: string): number | null {
  const compact = text.trim().toLowerCase().replaceAll(" ", "");
  const match = DURATION.exec(compact);
  if (compact === "" || match === null) {
    return null;
  }
  const [, d, h, m, s] = match;
  const seconds =
    Number(d ?? 0) * UNIT_SECONDS.d +
    Number(h ?? 0) * UNIT_SECONDS.h +
    Number(m ?? 0) * UNIT_SECONDS.m +
    Number(s ?? 0);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : null;
}

/** 7200 -> "2h", 5400 -> "1h 30m", 86400 -> "1d". */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) {
    return `${seconds}s`;
  }
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ["d", UNIT_SECONDS.d],
    ["h", UNIT_SECONDS.h],
    ["m", UNIT_SECONDS.m],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      rest -= count * size;
    }
  }
  return parts.join(" ");
}

/** What the duration select offers before a flow's bounds are applied. */
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

/**
 * The durations a flow offers: the standard steps up to its max, plus its default and max
 * themselves (and an extra one, e.g. pre-filled from `/access x 45m`), sorted.
 */
export function durationChoices(input: {
  maxSeconds: number;
  defaultSeconds: number;
  extra?: number;
}): number[] {
  const choices = new Set<number>(STANDARD_DURATIONS.filter((s) => s <= input.maxSeconds));
  choices.add(input.maxSeconds);
  if (input.defaultSeconds > 0 && input.defaultSeconds <= input.maxSeconds) {
    choices.add(input.defaultSeconds);
  }
  if (input.extra !== undefined && input.extra > 0 && input.extra <= input.maxSeconds) {
    choices.add(input.extra);
  }
  return [...choices].sort((a, b) => a - b);
}
