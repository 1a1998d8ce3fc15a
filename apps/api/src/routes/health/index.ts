import type { App, RouteDeps } from "../../route-context.js";
import { registerLiveness } from "./liveness.js";
import { type ReadinessDeps, registerReadiness } from "./readiness.js";

/** Probes: outside /v1 and unauthenticated, as orchestrators call them. */
export function registerHealthRoutes(app: App, deps: RouteDeps & ReadinessDeps): void {
  registerLiveness(app);
  registerReadiness(app, deps);
}
