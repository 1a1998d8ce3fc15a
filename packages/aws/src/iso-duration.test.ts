import { describe, expect, it } from "vitest";
import { parseIsoDurationSeconds } from "./iso-duration.js";

describe("parseIsoDurationSeconds", () => {
  it.each([
    ["PT1H", 3600],
    ["PT12H", 43_200],
    ["PT1H30M", 5400],
    ["PT45M", 2700],
    ["PT900S", 900],
    ["PT1H0M30S", 3630],
    ["PT0.5S", 0.5],
    ["P1D", 86_400],
    ["P1DT2H", 93_600],
  ])("%s is %d s", (text, seconds) => {
    expect(parseIsoDurationSeconds(text)).toBe(seconds);
  });

  it.each(["", "P", "PT", "1H", "PT1H30", "P1M", "P1Y", "PT-1H", "pt1h", "P1DT"])("refuses %j", (text) => {
    expect(parseIsoDurationSeconds(text)).toBeUndefined();
  });
});
