import { createHash, randomBytes } from "node:crypto";
import type { ApiTokenRecord, Clock, Deps, IdGenerator, Transaction } from "./ports.js";
import { err, ok, type Result } from "./result.js";
import {
  type ApiScope,
  authorityActor,
  authorityDescription,
  mintRefusal,
  type TokenAuthority,
} from "./token-authority.js";

const TOKEN_PREFIX = "kt_";

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export type MintTokenInput = {
  name: string;
  ownerKind: "person" | "service";
  owner: string;
  scopes: readonly ApiScope[];
  expiresAt?: Date;
  by: TokenAuthority;
};

/**
 * Mints a token. The secret is returned once and only its sha256 is stored; the visible prefix
 * lets people recognise a token in listings without being able to use it. `by` must be allowed to
 * (token-authority.ts); the audit event says who minted which scopes for whom.
 */
export async function createApiToken(
  deps: Deps,
  input: MintTokenInput,
): Promise<Result<{ token: string; record: ApiTokenRecord }>> {
  return deps.uow.run((tx) => mintApiToken(tx, deps, input));
}

/** createApiToken inside a transaction another use case holds (a sign-in hands out its token). */
export async function mintApiToken(
  tx: Transaction,
  deps: { clock: Clock; ids: IdGenerator },
  input: MintTokenInput,
): Promise<Result<{ token: string; record: ApiTokenRecord }>> {
  const owner = input.ownerKind === "person" ? input.owner.toLowerCase() : input.owner;
  const scopes = [...new Set(input.scopes)].sort();
  const refused = mintRefusal(input.by, {
    ownerKind: input.ownerKind,
    owner,
    scopes,
    expiresAt: input.expiresAt ?? null,
  });
  if (refused !== null) {
    return err(refused.code, refused.message, refused.details);
  }
  const actor = authorityActor(input.by);
  const id = deps.ids.uuid();
  const prefix = `${TOKEN_PREFIX}${randomBytes(6).toString("hex")}`;
  const token = `${prefix}_${randomBytes(32).toString("base64url")}`;
  const record: ApiTokenRecord = {
    id,
    name: input.name,
    ownerKind: input.ownerKind,
    owner,
    prefix,
    scopes,
    createdAt: deps.clock.now(),
    createdBy: actor.id,
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    revokedAt: null,
  };
  await tx.tokens.insert({ ...record, hash: hashToken(token) });
  await tx.audit.append({
    actor,
    action: "token.created",
    data: {
      id,
      name: record.name,
      ownerKind: record.ownerKind,
      owner: record.owner,
      prefix,
      scopes: record.scopes,
      expiresAt: record.expiresAt?.toISOString() ?? null,
      mintedBy: authorityDescription(input.by),
    },
  });
  return ok({ token, record });
}
