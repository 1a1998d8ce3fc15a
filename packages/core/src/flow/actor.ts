import type { FlowRules, PrincipalSelector } from "./flow-rules.js";

/**
 * Whoever acts on a request, as the edges resolved them: the pinned identity, and the Slack user
 * and group memberships looked up for this action (core does no lookups).
 */
export type Actor = {
  identityId: string;
  email: string;
  slackUserId?: string;
  slackGroupIds: readonly string[];
};

export function matchesSelector(actor: Actor, selector: PrincipalSelector): boolean {
  switch (selector.kind) {
    case "anyone":
      return true;
    case "email":
      return selector.email.toLowerCase() === actor.email.toLowerCase();
    case "slack_user":
      return actor.slackUserId !== undefined && selector.id === actor.slackUserId;
    case "slack_group":
      return actor.slackGroupIds.includes(selector.id);
  }
}

export function mayRequest(rules: FlowRules, actor: Actor): boolean {
  return rules.requesters.some((selector) => matchesSelector(actor, selector));
}

export function isApprover(rules: FlowRules, actor: Actor): boolean {
  return rules.approvers.some((selector) => selector.kind !== "anyone" && matchesSelector(actor, selector));
}
