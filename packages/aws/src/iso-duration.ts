// Permission-set session durations are ISO-8601 durations (PT1H by default, at most PT12H). Only
// the day and time parts occur; years and months have no fixed length in seconds, so they are
// refused rather than guessed.
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Seconds in an ISO-8601 duration such as PT1H, PT12H or PT1H30M; undefined if not one. */
export function parseIsoDurationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null || text === "P" || text.endsWith("T")) {
    return undefined;
  }
  const [, days, hours, minutes, seconds] = match;
  return (
    Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0)
  );
}
