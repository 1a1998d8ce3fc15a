import { describe, expect, it } from "vitest";
import { loadWorkerConfig } from "./worker.js";

const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/keyturn" };

describe("loadWorkerConfig: the Identity Center quotas", () => {
  it("defaults to 18 calls/s and 10 outstanding creations, the lower of AWS's two documented figures", () => {
    const result = loadWorkerConfig(base);
    expect(result.ok && result.config.aws).toMatchObject({ callsPerSecond: 18, maxOutstandingCreations: 10 });
  });

  it("takes AWS_MAX_OUTSTANDING_CREATIONS up to 15 and refuses more, or none", () => {
    const at = (value: string) => loadWorkerConfig({ ...base, AWS_MAX_OUTSTANDING_CREATIONS: value });
    const fifteen = at("15");
    expect(fifteen.ok && fifteen.config.aws.maxOutstandingCreations).toBe(15);
    for (const value of ["16", "0", "2.5", "ten"]) {
      const refused = at(value);
      expect(refused.ok).toBe(false);
      expect(refused.ok ? [] : refused.problems.join("\n")).toMatch(/^AWS_MAX_OUTSTANDING_CREATIONS: /);
    }
  });
});
