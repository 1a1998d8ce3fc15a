// Durations as people type and read them ("2h", "1h30m", "1d"). Which durations a flow offers and
// grants is core's (offeredDurations, durationProblem), shared with the API and the CLI.

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
