import { testFlowRules } from "@keyturn/testkit";
import { describe, expect, it } from "vitest";
import { changedFields, hasChanges, planFlows, type RemoteFlow, renderPlan } from "./flow-plan.js";

const local = (name: string, overrides = {}) => ({
  name,
  file: `flows/${name}.yaml`,
  rules: testFlowRules(overrides),
});
const remote = (name: string, overrides = {}, archivedAt: string | null = null): RemoteFlow => ({
  name,
  version: 3,
  archivedAt,
  rules: testFlowRules(overrides),
});

describe("changedFields", () => {
  it("compares as the API does (canonical JSON: key order does not matter) and names unset fields", () => {
    const before = testFlowRules({ reason: { required: true, pattern: "^INC-" } });
    const reordered = { ...before, reason: { pattern: "^INC-", required: true } };
    expect(changedFields(before, reordered)).toEqual([]);
    const { description: _, ...withoutDescription } = testFlowRules({ description: "old" });
    expect(
      changedFields(testFlowRules({ description: "old" }), {
        ...withoutDescription,
        maxDurationSeconds: 9000,
      }),
    ).toEqual([
      { field: "description", old: "old", new: null },
      { field: "maxDurationSeconds", old: 7200, new: 9000 },
    ]);
  });
});

describe("planFlows", () => {
  const live = [
    remote("same"),
    remote("edited"),
    remote("gone"),
    remote("shelved", {}, "2026-01-01T00:00:00Z"),
  ];
  const files = [local("same"), local("edited", { title: "New" }), local("shelved"), local("fresh")];

  it("creates, changes, restores and keeps; lists live flows without a file unless pruning", () => {
    const plan = planFlows(files, live, false);
    expect(plan.changes.map((c) => [c.name, c.action])).toEqual([
      ["edited", "change"],
      ["fresh", "create"],
      ["same", "unchanged"],
      ["shelved", "restore"],
    ]);
    expect(plan.unmanaged).toEqual(["gone"]);
    expect(hasChanges(plan)).toBe(true);
    const text = renderPlan(plan);
    expect(text).toContain('~ edited: change (version 3 → 4)\n    title: "S3 data" → "New"\n');
    expect(text).toContain("~ shelved: restore from archive (version 3 → 4)");
    expect(text).toContain("Plan: 1 to create, 1 to change, 1 to restore, 0 to archive, 1 unchanged.");
    expect(text).toContain("Not in the directory (kept; --prune archives them): gone");
  });

  it("with prune, archives live flows without a file, never already archived ones", () => {
    const plan = planFlows([local("same")], live, true);
    expect(plan.changes.map((c) => [c.name, c.action])).toEqual([
      ["edited", "archive"],
      ["gone", "archive"],
      ["same", "unchanged"],
    ]);
    expect(plan.unmanaged).toEqual([]);
  });

  it("has no changes when every file matches", () => {
    const plan = planFlows([local("same")], [remote("same")], true);
    expect(hasChanges(plan)).toBe(false);
    expect(renderPlan(plan)).toBe(
      "= same: unchanged (version 3)\n\nPlan: 0 to create, 0 to change, 0 to archive, 1 unchanged.\n",
    );
  });
});
