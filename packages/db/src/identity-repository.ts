import type { Identity, IdentityRepository } from "@keyturn/usecases";
import type { Tx } from "./prisma-types.js";

const select = {
  id: true,
  email: true,
  slackUserId: true,
  identityStoreUserId: true,
  displayName: true,
} as const;

export function createIdentityRepository(tx: Tx, ids: { uuid(): string }): IdentityRepository {
  return {
    findById: (id) => tx.identity.findUnique({ where: { id }, select }),
    async ensureByEmail(rawEmail, slackUserId): Promise<Identity> {
      const email = rawEmail.trim().toLowerCase();
      if (slackUserId !== undefined) {
        // A person first seen through Slack is pinned to their Slack user in the same transaction
        // as the action, so whoever reads the action sees who did it. A Slack user already pinned
        // elsewhere (unique) leaves the row to be made unpinned below.
        await tx.$executeRaw`INSERT INTO "Identity" (id, email, "slackUserId", "createdAt", "updatedAt")
          VALUES (${ids.uuid()}::uuid, ${email}, ${slackUserId}, now(), now()) ON CONFLICT DO NOTHING`;
      }
      // ON CONFLICT keeps two first sightings of one email from racing into a unique violation.
      await tx.$executeRaw`INSERT INTO "Identity" (id, email, "createdAt", "updatedAt")
        VALUES (${ids.uuid()}::uuid, ${email}, now(), now()) ON CONFLICT (email) DO NOTHING`;
      return tx.identity.findUniqueOrThrow({ where: { email }, select });
    },
  };
}
