import { describe, expect, it } from "vitest";
import { rules } from "../access-request/test-builders.js";
import { checkFlowRules, compilePattern } from "./flow-rules.js";

describe("flow rules", () => {
  it("accepts a sound flow", () => {
    expect(checkFlowRules(rules())).toEqual([]);
  });

  it.each([
    ["default above max", { defaultDurationSeconds: 10, maxDurationSeconds: 5 }, "defaultDurationSeconds"],
    ["no targets", { targets: [] }, "targets"],
    ["no approvers", { approvers: [] }, "approvers"],
    [
      "threshold above named approvers",
      { approvers: [{ kind: "email" as const, email: "a@x" }], approvalsRequired: 2 },
      "approvalsRequired",
    ],
    ["bad regex", { reason: { required: true, pattern: "(" } }, "reason.pattern"],
    ["auto and break-glass", { autoApprove: true, breakGlass: true }, "breakGlass"],
    ["min above default", { minDurationSeconds: 7200, defaultDurationSeconds: 3600 }, "minDurationSeconds"],
    ["min below a second", { minDurationSeconds: 0 }, "minDurationSeconds"],
    ["no offered durations", { offeredDurationsSeconds: [] }, "offeredDurationsSeconds"],
    [
      "an offered duration above max",
      { offeredDurationsSeconds: [3600, 10 * 3600], maxDurationSeconds: 8 * 3600 },
      "offeredDurationsSeconds[1]",
    ],
    [
      "offered durations without the default",
      { offeredDurationsSeconds: [1800], defaultDurationSeconds: 3600 },
      "offeredDurationsSeconds",
    ],
    [
      "on-call approval without schedules",
      { onCallApproval: { provider: "pagerduty" as const, schedules: [], escalationPolicies: [] } },
      "onCallApproval.schedules",
    ],
    [
      "on-call approval on an auto-approved flow",
      {
        autoApprove: true,
        onCallApproval: { provider: "pagerduty" as const, schedules: ["P1"], escalationPolicies: [] },
      },
      "onCallApproval",
    ],
    [
      "a zero on-call grant cap",
      {
        onCallApproval: {
          provider: "pagerduty" as const,
          schedules: ["P1"],
          escalationPolicies: [],
          maxGrantSeconds: 0,
        },
      },
      "onCallApproval.maxGrantSeconds",
    ],
    [
      "a checked ticket that is optional",
      { ticket: { required: false, check: { provider: "jira" as const } } },
      "ticket.required",
    ],
    [
      "a checked ticket with a bad project key",
      { ticket: { required: true, check: { provider: "jira" as const, projects: ["ops"] } } },
      "ticket.check.projects[0]",
    ],
  ])("reports %s", (_n, overrides, path) => {
    expect(checkFlowRules(rules(overrides)).map((p) => p.path)).toContain(path);
  });

  it("anchors patterns", () => {
    expect(compilePattern("PROJ-\\d+")?.test("xPROJ-1")).toBe(false);
    expect(compilePattern("PROJ-\\d+")?.test("PROJ-12")).toBe(true);
  });
});
