// Small value formatters shared by the commands' tables.

/** 3600 → "1h", 5400 → "1h30m", 90 → "1m30s". */
export function formatSeconds(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) {
    parts.push(`${rest}s`);
  }
  return parts.join("");
}

/** An ISO time as "2026-12-08 01:15:00Z" (seconds precision), or "-" when absent. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) {
    return "-";
  }
  return `${iso.slice(0, 19).replace("T", " ")}Z`;
}
