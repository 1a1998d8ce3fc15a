// Builders for the unit tests of the Slack builders: a request card as the database would give it.
import type { FlowRules } from "@keyturn/core";
import type { RequestCard } from "./request-card.js";

export const ID = "6f1c2a1e-0b7d-4c53-9d3a-2f4b5c6d7e8f";
export const T0 = new Date("2026-03-01T09:00:00.000Z");

export function rules(overrides: Partial<FlowRules> = {}): FlowRules {
  return {
    title: "S3 production data",
    targets: [{ accountId: "111122223333", permissionSetName: "S3Access" }],
    requesters: [{ kind: "anyone" }],
    approvers: [
      { kind: "slack_group", id: "S0OPS" },
      { kind: "email", email: "ann@example.com" },
    ],
    approvalsRequired: 2,
    selfApproval: false,
    autoApprove: false,
    breakGlass: false,
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 8 * 3600,
    reason: { required: true },
    ticket: { required: false, pattern: "INC-\\d+" },
    pendingTimeoutSeconds: 3600,
    extensions: { maxCount: 2, maxExtensionSeconds: 3600, requiresApproval: false },
    approvalChannel: "C0APPROVALS",
    ...overrides,
  };
}

export const alice = { email: "alice@example.com", slackUserId: "U0ALICE" };
export const ann = { email: "ann@example.com", slackUserId: "U0ANN" };
export const bob = { email: "bob@example.com", slackUserId: "U0BOB" };

export function card(overrides: Partial<RequestCard> = {}, flowRules: Partial<FlowRules> = {}): RequestCard {
  return {
    id: ID,
    flow: { name: "s3-prod", version: 3, rules: rules(flowRules) },
    requester: alice,
    target: { accountId: "111122223333", permissionSetName: "S3Access" },
    reason: "restore the orders table",
    ticket: "INC-42",
    linkedTicket: null,
    onCall: null,
    endReason: null,
    durationSeconds: 7200,
    status: "pending",
    breakGlass: false,
    reviews: [],
    extensionCount: 0,
    createdAt: T0,
    decidedAt: null,
    activatedAt: null,
    expiresAt: null,
    endedAt: null,
    failureReason: null,
    endedBy: null,
    filedBy: null,
    ...overrides,
  };
}

export function approvedBy(
  ...people: Array<{ email: string; slackUserId: string | null }>
): RequestCard["reviews"] {
  return people.map((reviewer, i) => ({
    reviewer,
    decision: "approve" as const,
    override: false,
    comment: null,
    at: new Date(T0.getTime() + (i + 1) * 60_000),
  }));
}

/** Every mrkdwn text in some blocks, and every plain_text, separately. */
export function texts(value: unknown): { mrkdwn: string[]; plain: string[] } {
  const found = { mrkdwn: [] as string[], plain: [] as string[] };
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (typeof node !== "object" || node === null) {
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.text === "string" && (record.type === "mrkdwn" || record.type === "plain_text")) {
      (record.type === "mrkdwn" ? found.mrkdwn : found.plain).push(record.text);
    }
    Object.values(record).forEach(walk);
  };
  walk(value);
  return found;
}

export function actionIds(blocks: unknown): string[] {
  const ids: string[] = [];
  for (const block of blocks as Array<{
    type: string;
    elements?: Array<{ action_id?: string }>;
    accessory?: { action_id?: string };
  }>) {
    for (const element of [
      ...(block.type === "actions" ? (block.elements ?? []) : []),
      ...(block.accessory === undefined ? [] : [block.accessory]),
    ]) {
      if (element.action_id !== undefined) {
        ids.push(element.action_id);
      }
    }
  }
  return ids;
}
