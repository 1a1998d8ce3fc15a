import { Readable } from "node:stream";
import { listAuditEvents, type PrismaClient } from "@keyturn/db";
import type { FastifyTypeProviderDefault } from "fastify";
import { z } from "zod";
import type { App, RouteDeps } from "../../route-context.js";
import { toAuditEventJson } from "../../schemas/audit-event.js";

const BATCH_SIZE = 500;

/** Pages through the chain by seq, so memory stays flat however long the log is. */
async function* ndjsonLines(prisma: PrismaClient): AsyncGenerator<string> {
  let afterSeq: bigint | undefined;
  for (;;) {
    const page = await listAuditEvents(prisma, {
      filter: afterSeq === undefined ? {} : { afterSeq },
      limit: BATCH_SIZE,
    });
    if (page.items.length > 0) {
      yield `${page.items.map((event) => JSON.stringify(toAuditEventJson(event))).join("\n")}\n`;
    }
    if (page.nextAfterSeq === null) {
      return;
    }
    afterSeq = page.nextAfterSeq;
  }
}

export function registerExportAuditEvents(app: App, deps: RouteDeps): void {
  // The body is a stream, not a value the zod serializer could check; the schema only documents it.
  app.withTypeProvider<FastifyTypeProviderDefault>().get(
    "/audit/export",
    {
      config: { scopes: ["audit:read"] },
      schema: {
        tags: ["audit"],
        summary: "Export the whole audit log as NDJSON, one event per line, in chain order",
        response: {
          200: {
            description: "One AuditEvent JSON object per line",
            content: { "application/x-ndjson": { schema: z.string() } },
          },
        },
      },
    },
    async (request, reply) => {
      const stream = Readable.from(ndjsonLines(deps.prisma));
      stream.on("error", (error) => {
        // Headers are gone by now; the truncated body (no trailing newline) tells the client.
        request.log.error({ err: error }, "audit export failed mid-stream");
      });
      return reply
        .type("application/x-ndjson")
        .header("content-disposition", 'attachment; filename="keyturn-audit.ndjson"')
        .send(stream);
    },
  );
}
