import type { FlowRules } from "@keyturn/core";

/**
 * A flow as most tests need one: anyone may ask for `S3Access` in 111122223333, ann@example.com
 * approves alone, no reason or ticket, no extensions. Tests spell out only what they depend on.
 */
export function testFlowRules(overrides: Partial<FlowRules> = {}): FlowRules {
  return {
    title: "S3 data",
    targets: [{ accountId: "111122223333", permissionSetName: "S3Access" }],
    requesters: [{ kind: "anyone" }],
    approvers: [{ kind: "email", email: "ann@example.com" }],
    approvalsRequired: 1,
    selfApproval: false,
    autoApprove: false,
    breakGlass: false,
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 7200,
    reason: { required: false },
    ticket: { required: false },
    pendingTimeoutSeconds: 3600,
    extensions: { maxCount: 0, maxExtensionSeconds: 0, requiresApproval: false },
    ...overrides,
  };
}
