// Providers render instants in a time zone with its offset ("2026-03-06T15:28:51-05:00"), so a
// client that ignores the offset reads the wrong hour. These helpers render that form.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (cached === undefined) {
    cached = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, cached);
  }
  return cached;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

function pad(value: number, width = 2): string {
  return String(Math.abs(value)).padStart(width, "0");
}

type Wall = { date: string; time: string; offsetMinutes: number };

function wallClock(ms: number, timeZone: string): Wall {
  const seconds = Math.floor(ms / 1000) * 1000;
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(seconds))
      .map((p) => [p.type, p.value]),
  );
  const { year, month, day, hour, minute, second } = parts as Record<string, string>;
  const asUtc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  return {
    date: `${year}-${month}-${day}`,
    time: `${hour}:${minute}:${second}`,
    offsetMinutes: Math.round((asUtc - seconds) / 60_000),
  };
}

/** `2026-03-06T15:28:51-05:00` (`Z` for UTC): PagerDuty's form, whole seconds. */
export function isoInZone(ms: number, timeZone: string): string {
  const { date, time, offsetMinutes } = wallClock(ms, timeZone);
  if (offsetMinutes === 0) {
    return `${date}T${time}Z`;
  }
  const sign = offsetMinutes < 0 ? "-" : "+";
  return `${date}T${time}${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
}

/** `2026-03-06T15:28:51.123-0500`: Jira's form, milliseconds and an offset without a colon. */
export function jiraTime(ms: number, timeZone: string): string {
  const { date, time, offsetMinutes } = wallClock(ms, timeZone);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const millis = pad(((ms % 1000) + 1000) % 1000, 3);
  return `${date}T${time}.${millis}${sign}${pad(Math.trunc(offsetMinutes / 60))}${pad(offsetMinutes % 60)}`;
}
