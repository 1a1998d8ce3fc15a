import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./durations.js";

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
});
