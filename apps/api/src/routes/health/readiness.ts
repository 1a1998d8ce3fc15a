import { pingDatabase } from "@keyturn/db";
import { answersWithin } from "@keyturn/observability";
import { z } from "zod";
import { HttpProblem } from "../../http-errors.js";
import type { App, RouteDeps } from "../../route-context.js";

export type ReadinessDeps = Pick<RouteDeps, "prisma"> & {
  /** The queue dashboard's Redis, when the API serves it: then it is checked too. */
  redis?: { ping(): Promise<string> };
};

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
        answersWithin(() => pingDatabase(deps.prisma)),
        deps.redis === undefined
          ? Promise.resolve(true)
          : answersWithin(() => (deps.redis as { ping(): Promise<string> }).ping()),
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
