import type { ApiTokenRecord, Deps } from "./ports.js";
import { err, ok, type Result } from "./result.js";
import {
  authorityActor,
  authorityDescription,
  revokeRefusal,
  type TokenAuthority,
} from "./token-authority.js";

/** Revokes a token at once, if `by` may (token-authority.ts); revoking twice changes nothing. */
export async function revokeApiToken(
  deps: Deps,
  input: { id: string; by: TokenAuthority },
): Promise<Result<ApiTokenRecord>> {
  return deps.uow.run(async (tx) => {
    const token = await tx.tokens.findById(input.id);
    if (token === null) {
      return err("TOKEN_NOT_FOUND", `no token ${input.id}`);
    }
    const refused = revokeRefusal(input.by, token);
    if (refused !== null) {
      return err(refused.code, refused.message, refused.details);
    }
    if (token.revokedAt !== null) {
      return ok(token);
    }
    const now = deps.clock.now();
    await tx.tokens.markRevoked(input.id, now);
    await tx.audit.append({
      actor: authorityActor(input.by),
      action: "token.revoked",
      data: {
        id: token.id,
        name: token.name,
        prefix: token.prefix,
        ownerKind: token.ownerKind,
        owner: token.owner,
        scopes: token.scopes,
        revokedBy: authorityDescription(input.by),
      },
    });
    return ok({ ...token, revokedAt: now });
  });
}
