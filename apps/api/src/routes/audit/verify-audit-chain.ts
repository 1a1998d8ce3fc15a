import { verifyAuditChain } from "@keyturn/db";
import { z } from "zod";
import type { App, RouteDeps } from "../../route-context.js";

const VerificationSchema = z.union([
  z.object({ ok: z.literal(true), events: z.number().int(), head: z.string() }),
  z.object({
    ok: z.literal(false),
    events: z.number().int(),
    brokenAt: z.object({
      seq: z.string(),
      id: z.string(),
      reason: z.enum(["hash_mismatch", "prev_hash_mismatch"]),
    }),
  }),
]);

export function registerVerifyAuditChain(app: App, deps: RouteDeps): void {
  app.get(
    "/audit/verify",
    {
      config: { scopes: ["audit:read"] },
      schema: {
        tags: ["audit"],
        summary: "Walk the hash chain and report the first broken link (200 either way)",
        response: { 200: VerificationSchema },
      },
    },
    async () => verifyAuditChain(deps.prisma),
  );
}
