import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";

// A probe must answer quickly even when Postgres hangs rather than refuses.
const PROBE_TIMEOUT_MS = 2_000;

async function databaseAnswers(deps: RouteDeps): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    const query = deps.prisma.$queryRaw`SELECT 1`.then(
      () => true,
      () => false,
    );
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerReadiness(app: App, deps: RouteDeps): void {
  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: PostgreSQL answers SELECT 1 (503 otherwise)",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async (request) => {
      if (!(await databaseAnswers(deps))) {
        request.log.warn("readiness probe: database did not answer");
        throw new HttpProblem("NOT_READY", "the database is not answering");
      }
      return { status: "ok" as const };
    },
  );
}
