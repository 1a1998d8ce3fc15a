import { API_SCOPES, type ApiTokenRecord } from "@keyturn/usecases";
import { z } from "zod";
import { iso } from "./common.js";

export const ApiScopeSchema = z.enum(API_SCOPES);

export const ServiceNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 characters of a-z, 0-9 and '._-'");

/** Metadata only: the secret is shown once at creation and the hash never leaves the database. */
export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    ownerKind: z.enum(["person", "service"]),
    owner: z.string(),
    prefix: z.string().meta({ description: "The token's visible start, to recognise it; not usable" }),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "ApiToken" });

export type ApiTokenJson = z.infer<typeof ApiTokenSchema>;

export function toApiTokenJson(record: ApiTokenRecord): ApiTokenJson {
  return {
    id: record.id,
    name: record.name,
    ownerKind: record.ownerKind,
    owner: record.owner,
    prefix: record.prefix,
    scopes: record.scopes,
    createdAt: record.createdAt.toISOString(),
    createdBy: record.createdBy,
    expiresAt: iso(record.expiresAt),
    lastUsedAt: iso(record.lastUsedAt),
    revokedAt: iso(record.revokedAt),
  };
}
