import { describe, expect, it } from "vitest";
import { durationProblem, offeredDurations } from "./durations.js";

const flow = (overrides: Partial<Parameters<typeof offeredDurations>[0]> = {}) => ({
  defaultDurationSeconds: 3600,
  maxDurationSeconds: 7200,
  ...overrides,
});

describe("the durations a flow offers and grants", () => {
  it("offers the standard steps within its bounds, plus the max, the default and an extra it grants", () => {
    expect(offeredDurations(flow())).toEqual([900, 1800, 3600, 7200]);
    expect(offeredDurations(flow({ maxDurationSeconds: 5400, defaultDurationSeconds: 2700 }), 600)).toEqual([
      600, 900, 1800, 2700, 3600, 5400,
    ]);
    expect(offeredDurations(flow({ maxDurationSeconds: 3600 }), 7200)).toEqual([900, 1800, 3600]);
  });

  it("offers nothing below its min, and no extra below it", () => {
    expect(offeredDurations(flow({ minDurationSeconds: 1800 }), 600)).toEqual([1800, 3600, 7200]);
  });

  it("offers exactly the durations it names, and grants no other", () => {
    const named = flow({ offeredDurationsSeconds: [7200, 1200, 3600] });
    expect(offeredDurations(named, 600)).toEqual([1200, 3600, 7200]);
    expect(durationProblem(named, 1200)).toBeNull();
    expect(durationProblem(named, 1800)).toBe("duration must be one of 7200, 1200, 3600 seconds, got 1800");
  });

  it("grants whole seconds within [min, max]", () => {
    expect(durationProblem(flow(), 1)).toBeNull();
    expect(durationProblem(flow(), 7200)).toBeNull();
    expect(durationProblem(flow(), 7201)).toBe("duration must be between 1 and 7200 seconds, got 7201");
    expect(durationProblem(flow({ minDurationSeconds: 900 }), 600)).toMatch(/between 900 and 7200/);
    expect(durationProblem(flow(), 1.5)).not.toBeNull();
  });
});
