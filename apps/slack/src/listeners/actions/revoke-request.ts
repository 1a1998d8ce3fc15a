import { mention, targetText } from "@keyturn/slack";
import { revokeRequest } from "@keyturn/usecases";
import type { Services } from "../../services.js";
import { groupIds } from "../../services.js";
import { requestButton } from "./request-button.js";

/** Ends approved or active access early: the requester or one of the flow's approvers. */
export function revokeAction(services: Services) {
  return requestButton(services, {
    interaction: "request.revoke",
    groups: (card) => groupIds(card.flow.rules.approvers),
    run: ({ requestId, principal }) =>
      revokeRequest(services.usecases, { requestId, by: principal, asAdmin: false }),
    done: (_after, card) =>
      `You revoked ${mention(card.requester)}'s access to ${targetText(card.target)}; Keyturn is removing it in AWS now.`,
  });
}
