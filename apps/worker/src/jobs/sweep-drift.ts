import type { Logger } from "@keyturn/observability";
import { type Deps, type IdentityCenter, scanDrift } from "@keyturn/usecases";

/** Reports (and, where a flow says so, removes) assignments Keyturn neither granted nor found. */
export function sweepDriftHandler(deps: Deps & { identityCenter: IdentityCenter; logger: Logger }) {
  return async (): Promise<void> => {
    const result = await scanDrift(deps);
    for (const finding of result.findings.filter((f) => f.isNew)) {
      // The alert: an operator must look at every new one (someone granted themselves the data role?).
      deps.logger.warn(
        { alert: "drift", ...finding },
        "ALERT: an assignment Keyturn did not grant was found",
      );
    }
  };
}
