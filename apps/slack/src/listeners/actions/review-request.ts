import type { ReviewDecision } from "@keyturn/core";
import { mention, targetText } from "@keyturn/slack";
import { reviewRequest } from "@keyturn/usecases";
import type { Services } from "../../services.js";
import { groupIds } from "../../services.js";
import { requestButton } from "./request-button.js";

/** Approve or Deny: one review under the flow's rules (approver, not self, threshold). */
export function reviewAction(services: Services, decision: ReviewDecision) {
  return requestButton(services, {
    interaction: decision === "approve" ? "request.approve" : "request.deny",
    groups: (card) => groupIds(card.flow.rules.approvers),
    run: ({ requestId, principal }) =>
      reviewRequest(services.usecases, { requestId, reviewer: principal, decision }),
    done: (after, card) => {
      const whose = `${mention(card.requester)}'s request for ${targetText(card.target)}`;
      if (decision === "deny") {
        return `You denied ${whose}.`;
      }
      const approvals = after.reviews.filter((r) => r.decision === "approve").length;
      const required = after.flow.rules.approvalsRequired;
      return after.status === "pending"
        ? `You approved ${whose}: ${approvals} of ${required} approvals, it needs another approver.`
        : `You approved ${whose}. Keyturn is granting the access now.`;
    },
  });
}
