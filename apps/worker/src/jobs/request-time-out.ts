import type { Payload } from "@keyturn/queue";
import { AppError, type Deps, timeOutRequest } from "@keyturn/usecases";

/**
 * Ends a request nobody decided in time. A request decided meanwhile is simply done; one whose
 * deadline has not come (the job fired early) is retried after backoff.
 */
export function requestTimeOutHandler(deps: Deps) {
  return async (payload: Payload<"request.time-out">): Promise<void> => {
    const result = await timeOutRequest(deps, { requestId: payload.requestId });
    if (result.ok || result.error.code === "ALREADY_DECIDED" || result.error.code === "REQUEST_NOT_FOUND") {
      return;
    }
    throw new AppError(result.error.code, result.error.message, {
      retryable: result.error.code === "NOT_DUE",
    });
  };
}
