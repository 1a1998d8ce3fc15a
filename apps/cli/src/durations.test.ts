import { describe, expect, it } from "vitest";
import { parseDuration } from "./durations.js";

describe("parseDuration", () => {
  it.each([
    ["1h", 3600],
    ["30m", 1800],
    ["1h30m", 5400],
    ["90s", 90],
    ["2d", 172_800],
    [" 1H ", 3600],
  ])("%s is %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "1", "h", "1.5h", "-1h", "0m", "1 h", "1h-30m", "1w"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
