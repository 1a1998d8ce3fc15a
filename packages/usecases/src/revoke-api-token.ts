import type { ApiTokenRecord, AuditActor, Deps } from "./ports.js";
import { err, ok, type Result } from "./result.js";

export async function revokeApiToken(
  deps: Deps,
  input: { id: string; by: AuditActor },
): Promise<Result<ApiTokenRecord>> {
  return deps.uow.run(async (tx) => {
    const token = await tx.tokens.findById(input.id);
    if (token === null) {
      return err("TOKEN_NOT_FOUND", `no token ${input.id}`);
    }
    if (token.revokedAt !== null) {
      return ok(token);
    }
    const now = deps.clock.now();
    await tx.tokens.markRevoked(input.id, now);
    await tx.audit.append({
      actor: input.by,
      action: "token.revoked",
      data: { id: token.id, name: token.name, prefix: token.prefix },
    });
    return ok({ ...token, revokedAt: now });
  });
}
