import { mention, slackDate, targetText } from "@keyturn/slack";
import { extendRequest } from "@keyturn/usecases";
import type { Services } from "../../services.js";
import { groupIds } from "../../services.js";
import { requestButton } from "./request-button.js";

/**
 * Extends active access by the flow's maximum extension. Who may press it (the requester, or an
 * approver when extensions need approval) is the use case's decision.
 */
export function extendAction(services: Services) {
  return requestButton(services, {
    interaction: "request.extend",
    groups: (card) => groupIds(card.flow.rules.approvers),
    run: ({ requestId, principal, card }) =>
      extendRequest(services.usecases, {
        requestId,
        by: principal,
        additionalSeconds: card.flow.rules.extensions.maxExtensionSeconds,
      }),
    done: (after, card) =>
      after.expiresAt === undefined
        ? `Extended ${mention(card.requester)}'s access to ${targetText(card.target)}.`
        : `Extended ${mention(card.requester)}'s access to ${targetText(card.target)} until ${slackDate(after.expiresAt)}.`,
  });
}
