import type { Logger } from "@keyturn/observability";
import { AppError, type Deps, pollTickets } from "@keyturn/usecases";

/**
 * The polling fallback under the ticket webhooks: a close the webhook never delivered still ends
 * the access it was bound to, within one poll interval. A ticket its provider cannot answer about
 * is logged and asked again at the next poll.
 */
export function sweepTicketsHandler(deps: Deps & { logger: Logger }) {
  return async (): Promise<void> => {
    const result = await pollTickets(deps);
    if (!result.ok) {
      throw new AppError(result.error.code, result.error.message, { retryable: true });
    }
    for (const failure of result.value.failed) {
      deps.logger.warn(failure, "could not check a ticket some access is bound to; will ask again");
    }
    if (result.value.ended.length > 0) {
      deps.logger.info(
        { ended: result.value.ended.map((request) => request.id) },
        "ended access whose ticket closed",
      );
    }
  };
}
