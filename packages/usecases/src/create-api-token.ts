import { createHash, randomBytes } from "node:crypto";
import type { ApiTokenRecord, AuditActor, Deps } from "./ports.js";
import { ok, type Result } from "./result.js";

export const API_SCOPES = [
  "requests:read",
  "requests:write",
  "flows:admin",
  "audit:read",
  "tokens:admin",
  "queues:read",
  "queues:write",
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

const TOKEN_PREFIX = "kt_";

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Mints a token. The secret is returned once and only its sha256 is stored; the visible prefix
 * lets people recognise a token in listings without being able to use it.
 */
export async function createApiToken(
  deps: Deps,
  input: {
    name: string;
    ownerKind: "person" | "service";
    owner: string;
    scopes: readonly ApiScope[];
    expiresAt?: Date;
    by: AuditActor;
  },
): Promise<Result<{ token: string; record: ApiTokenRecord }>> {
  const id = deps.ids.uuid();
  const prefix = `${TOKEN_PREFIX}${randomBytes(6).toString("hex")}`;
  const token = `${prefix}_${randomBytes(32).toString("base64url")}`;
  const record: ApiTokenRecord = {
    id,
    name: input.name,
    ownerKind: input.ownerKind,
    owner: input.ownerKind === "person" ? input.owner.toLowerCase() : input.owner,
    prefix,
    scopes: [...new Set(input.scopes)].sort(),
    createdAt: deps.clock.now(),
    createdBy: input.by.id,
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    revokedAt: null,
  };
  await deps.uow.run(async (tx) => {
    await tx.tokens.insert({ ...record, hash: hashToken(token) });
    await tx.audit.append({
      actor: input.by,
      action: "token.created",
      data: {
        id,
        name: record.name,
        ownerKind: record.ownerKind,
        owner: record.owner,
        prefix,
        scopes: record.scopes,
      },
    });
  });
  return ok({ token, record });
}
