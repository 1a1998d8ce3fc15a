import type { Payload } from "@keyturn/queue";
import { AppError, checkOnCall, type Deps } from "@keyturn/usecases";

/**
 * Asks the on-call provider about a pending request's requester once, and records what core
 * decides (approved by Keyturn, or left with the approvers with a note). A provider failure is an
 * answer, not an error: the request goes to the approvers. Only database trouble is retried.
 */
export function requestOnCallCheckHandler(deps: Deps) {
  return async (payload: Payload<"request.on-call-check">): Promise<void> => {
    const result = await checkOnCall(deps, { requestId: payload.requestId });
    if (!result.ok) {
      throw new AppError(result.error.code, result.error.message, { retryable: false });
    }
  };
}
