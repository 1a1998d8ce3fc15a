import { describe, expect, it } from "vitest";
import { lineDiff, type PolicyDiffView, renderPolicyDiff } from "./render-diff.js";

const statement = (sid: string, extra: Record<string, unknown> = {}) => ({
  Sid: sid,
  Effect: "Deny",
  Action: ["s3:*"],
  ...extra,
});

function preview(overrides: Partial<PolicyDiffView> = {}): PolicyDiffView {
  return {
    bucket: "data",
    sessionCutoffs: [{ identityStoreUserId: "u-1", until: "2030-01-01T01:00:00.000Z" }],
    diff: {
      added: [{ sid: "DenyEndedSessions", statement: statement("DenyEndedSessions") }],
      removed: [{ sid: "DenyOld", statement: statement("DenyOld") }],
      changed: [
        {
          sid: "DenyEveryoneElse",
          live: statement("DenyEveryoneElse", { Resource: ["a"] }),
          generated: statement("DenyEveryoneElse", { Resource: ["a", "b"] }),
        },
      ],
      unchanged: ["DenyInsecureCommunications"],
      foreign: [{ index: 4, sid: null, statement: statement("x") }],
    },
    toApply: { bytes: 1234 },
    changesLive: true,
    drift: { detected: true, expectedHash: "a", lastAppliedAt: "2030-01-01T00:00:00.000Z" },
    ...overrides,
  };
}

describe("renderPolicyDiff", () => {
  it("summarises, flags drift and cut-offs, and shows each statement's fate", () => {
    const text = renderPolicyDiff(preview(), { dropForeign: false });
    expect(text).toContain("bucket data: 1 to add, 1 to change, 1 to remove, 1 unchanged, 1 foreign (kept)");
    expect(text).toContain(
      "DRIFT: the live policy differs from the one Keyturn last applied (applied 2030-01-01T00:00:00.000Z)",
    );
    expect(text).toContain("session cut-offs in force: u-1 until 2030-01-01T01:00:00.000Z");
    expect(text).toContain("\n+ DenyEndedSessions\n");
    expect(text).toContain("\n~ DenyEveryoneElse\n");
    expect(text).toContain('    +     "b"');
    expect(text).toContain("\n- DenyOld\n");
    expect(text).toContain("! foreign statement #4 (not written by Keyturn; kept as is)");
    expect(text).toContain("applying would put 1234 bytes");
    expect(renderPolicyDiff(preview(), { dropForeign: true })).toContain("will be DROPPED");
  });

  it("says when there is nothing to apply", () => {
    expect(renderPolicyDiff(preview({ changesLive: false }), { dropForeign: false })).toContain(
      "in sync: applying would change nothing.",
    );
  });
});

describe("lineDiff", () => {
  it("keeps common lines and marks the rest", () => {
    expect(lineDiff(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual([
      "      a",
      "    + x",
      "    - b",
      "      c",
      "    + d",
    ]);
  });
});
