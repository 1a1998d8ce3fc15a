import { pingDatabase } from "@keyturn/db";
import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";

// A probe must answer quickly even when a dependency hangs rather than refuses.
const PROBE_TIMEOUT_MS = 2_000;

export type ReadinessDeps = Pick<RouteDeps, "prisma"> & {
  /** The queue dashboard's Redis, when the API serves it: then it is checked too. */
  redis?: { ping(): Promise<string> };
};

async function answers(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    const query = probe().then(
      () => true,
      () => false,
    );
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerReadiness(app: App, deps: ReadinessDeps): void {
  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary:
          "Readiness: PostgreSQL answers SELECT 1 and, when the API serves the queue dashboard (REDIS_URL), Redis answers PING (503 otherwise)",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async (request) => {
      const [database, redis] = await Promise.all([
        answers(() => pingDatabase(deps.prisma)),
        deps.redis === undefined
          ? Promise.resolve(true)
          : answers(() => (deps.redis as { ping(): Promise<string> }).ping()),
      ]);
      const down = [...(database ? [] : ["the database"]), ...(redis ? [] : ["Redis"])];
      if (down.length > 0) {
        request.log.warn({ down }, "readiness probe: a dependency did not answer");
        throw new HttpProblem(
          "NOT_READY",
          `${down.join(" and ")} ${down.length > 1 ? "are" : "is"} not answering`,
        );
      }
      return { status: "ok" as const };
    },
  );
}
