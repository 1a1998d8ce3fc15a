import { targetText } from "@keyturn/slack";
import { cancelRequest } from "@keyturn/usecases";
import type { Services } from "../../services.js";
import { requestButton } from "./request-button.js";

/** The requester withdraws a pending request. */
export function cancelAction(services: Services) {
  return requestButton(services, {
    interaction: "request.cancel",
    groups: () => [],
    run: ({ requestId, principal }) =>
      cancelRequest(services.usecases, { requestId, by: principal, asAdmin: false }),
    done: (_after, card) => `You cancelled your request for ${targetText(card.target)}.`,
  });
}
