import { z } from "zod";
import type { App } from "../../route-context.js";

export function registerLiveness(app: App): void {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness: the process answers (no dependencies checked)",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );
}
