import type { Actor } from "../flow/actor.js";
import type { FlowRef, FlowRules } from "../flow/flow-rules.js";

export const T0 = new Date("2026-01-01T00:00:00.000Z");

export function rules(overrides: Partial<FlowRules> = {}): FlowRules {
  return {
    title: "S3 production data",
    targets: [{ accountId: "111122223333", permissionSetName: "S3Access" }],
    requesters: [{ kind: "anyone" }],
    approvers: [
      { kind: "email", email: "ann@example.com" },
      { kind: "email", email: "ben@example.com" },
      { kind: "slack_group", id: "S-SECURITY" },
    ],
    approvalsRequired: 1,
    selfApproval: false,
    autoApprove: false,
    breakGlass: false,
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 8 * 3600,
    reason: { required: true },
    ticket: { required: false },
    pendingTimeoutSeconds: 3600,
    extensions: { maxCount: 2, maxExtensionSeconds: 3600, requiresApproval: false },
    ...overrides,
  };
}

export function flow(overrides: Partial<FlowRules> = {}): FlowRef {
  return { name: "s3-prod", version: 1, rules: rules(overrides) };
}

export function actor(name: string, groups: string[] = []): Actor {
  return {
    identityId: `id-${name}`,
    email: `${name}@example.com`,
    slackUserId: `U-${name}`,
    slackGroupIds: groups,
  };
}
