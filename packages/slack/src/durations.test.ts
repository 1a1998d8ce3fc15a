import { describe, expect, it } from "vitest";
import { durationChoices, formatDuration, parseDuration } from "./durations.js";

describe("durations", () => {
  it.each([
    ["2h", 7200],
    ["90m", 5400],
    ["1h30m", 5400],
    ["1H 30M", 5400],
    ["45min", 2700],
    ["1d", 86_400],
    ["30s", 30],
  ])("parses %s", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "2", "h", "2x", "-1h", "0h", "1.5h", "restore"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it("formats", () => {
    expect([45, 900, 3600, 5400, 7200, 86_400, 93_600].map(formatDuration)).toEqual([
      "45s",
      "15m",
      "1h",
      "1h 30m",
      "2h",
      "1d",
      "1d 2h",
    ]);
  });

  it("offers the standard steps up to the max, plus the max, the default and an extra", () => {
    expect(durationChoices({ maxSeconds: 7200, defaultSeconds: 3600 })).toEqual([900, 1800, 3600, 7200]);
    expect(durationChoices({ maxSeconds: 5400, defaultSeconds: 2700, extra: 600 })).toEqual([
      600, 900, 1800, 2700, 3600, 5400,
    ]);
    expect(durationChoices({ maxSeconds: 3600, defaultSeconds: 3600, extra: 7200 })).toEqual([
      900, 1800, 3600,
    ]);
  });
});
