import type { Actor } from "@keyturn/core";
import type { AuditActor, Transaction } from "./ports.js";

/**
 * A person acting through an edge (an API token's owner, a Slack user), as that edge knows them.
 * Group memberships are looked up by the edge for this action; core only compares.
 */
export type Principal = {
  email: string;
  slackUserId?: string;
  slackGroupIds?: readonly string[];
  audit: AuditActor;
};

export async function resolveActor(tx: Transaction, principal: Principal): Promise<Actor> {
  const identity = await tx.identities.ensureByEmail(principal.email, principal.slackUserId);
  const slackUserId = principal.slackUserId ?? identity.slackUserId ?? undefined;
  return {
    identityId: identity.id,
    email: identity.email,
    ...(slackUserId === undefined ? {} : { slackUserId }),
    slackGroupIds: principal.slackGroupIds ?? [],
  };
}

export const SYSTEM: AuditActor = { type: "system", id: "keyturn" };
