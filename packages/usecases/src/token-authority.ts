import type { ApiTokenRecord, AuditActor } from "./ports.js";
import type { UseCaseError } from "./result.js";

// Who may mint and revoke API tokens. The rules keep DESIGN.md invariant 9: no scope lets its
// holder act as another person. A person token *is* that person to every use case (reviews count
// as theirs), so a person token can only be obtained by the person it names: minted by one of
// their own tokens, or by the person signing in (the later `keyturn login`: Slack vouches for who
// they are). Nobody mints a token with a scope they do not hold, and nobody revokes a token with
// more power than their own. Operators with the database's credentials (the token:create CLI, the
// local runner) stand outside the API's model: they could write the rows themselves.

export const API_SCOPES = [
  "requests:read",
  "requests:write",
  /**
   * Only the holder's own person's requests: list and read them, file for themselves, cancel,
   * extend and revoke their own; never review, never see anyone else's (the `keyturn login` token).
   */
  "requests:self",
  /** File a request for someone else (an integration: a ticketing system, a chat bot). */
  "requests:on-behalf",
  "flows:admin",
  "audit:read",
  "tokens:admin",
  "queues:read",
  "queues:write",
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Who mints or revokes a token. */
export type TokenAuthority =
  /** An operator with database access (the token:create CLI, the local runner): the bootstrap. */
  | { type: "system"; id: string; label?: string }
  /** An API token (POST /v1/tokens, DELETE /v1/tokens/:id). */
  | { type: "token"; token: ApiTokenRecord }
  /** A person whose identity Keyturn verified (Slack sign-in): their own token, nobody else's. */
  | { type: "identity"; id: string; email: string; label?: string };

export function authorityActor(by: TokenAuthority): AuditActor {
  switch (by.type) {
    case "system":
      return { type: "system", id: by.id, ...(by.label === undefined ? {} : { label: by.label }) };
    case "token":
      return { type: "token", id: by.token.id, label: by.token.name };
    case "identity":
      return { type: "identity", id: by.id, label: by.label ?? by.email };
  }
}

/** For the audit trail: who minted or revoked, in words a reader of the log recognises. */
export function authorityDescription(by: TokenAuthority): Record<string, string> {
  switch (by.type) {
    case "system":
      return { kind: "operator", id: by.id };
    case "token":
      return { kind: "token", id: by.token.id, ownerKind: by.token.ownerKind, owner: by.token.owner };
    case "identity":
      return { kind: "person", id: by.id, email: by.email };
  }
}

const refusal = (
  code: UseCaseError["code"],
  message: string,
  details?: Record<string, unknown>,
): UseCaseError => (details === undefined ? { code, message } : { code, message, details });

export type MintRequest = {
  ownerKind: "person" | "service";
  /** Lower-cased email for a person, the service's name otherwise. */
  owner: string;
  scopes: readonly ApiScope[];
  expiresAt: Date | null;
};

/** Why `by` may not mint this token; null when it may. */
export function mintRefusal(by: TokenAuthority, wanted: MintRequest): UseCaseError | null {
  switch (by.type) {
    case "system":
      return null;
    case "identity":
      return wanted.ownerKind === "person" && wanted.owner === by.email.toLowerCase()
        ? null
        : refusal("FOREIGN_TOKEN_OWNER", "a person may only obtain a token for themselves");
    case "token": {
      const minter = by.token;
      const held = new Set(minter.scopes);
      const beyond = wanted.scopes.filter((s) => !held.has(s));
      if (beyond.length > 0) {
        return refusal("SCOPE_NOT_HELD", `the minting token lacks ${beyond.join(", ")}`, { scopes: beyond });
      }
      // A person token acts as that person everywhere (their reviews count towards n-of-m), so only
      // the person's own token may mint another for them, never an admin's.
      if (
        wanted.ownerKind === "person" &&
        !(minter.ownerKind === "person" && minter.owner === wanted.owner)
      ) {
        return refusal(
          "FOREIGN_TOKEN_OWNER",
          `a token may mint person tokens only for its own person (${minter.ownerKind === "person" ? minter.owner : "none: this is a service token"}); ` +
            `${wanted.owner} obtains their own token`,
        );
      }
      // A minted token must not outlive the token that minted it: expiry is not a way to persist.
      if (minter.expiresAt !== null && (wanted.expiresAt === null || wanted.expiresAt > minter.expiresAt)) {
        return refusal(
          "EXPIRY_BEYOND_MINTER",
          `the minting token expires at ${minter.expiresAt.toISOString()}; a token it mints must expire by then`,
        );
      }
      return null;
    }
  }
}

/**
 * Why `by` may not revoke `target`; null when it may. A token may revoke itself, and with
 * tokens:admin any token whose scopes it could have granted (all of which it holds itself).
 */
export function revokeRefusal(by: TokenAuthority, target: ApiTokenRecord): UseCaseError | null {
  switch (by.type) {
    case "system":
      return null;
    case "identity":
      return target.ownerKind === "person" && target.owner === by.email.toLowerCase()
        ? null
        : refusal("TOKEN_BEYOND_REACH", "a person may only revoke their own tokens");
    case "token": {
      if (by.token.id === target.id) {
        return null;
      }
      const held = new Set(by.token.scopes);
      if (!held.has("tokens:admin")) {
        return refusal("TOKEN_BEYOND_REACH", "without tokens:admin a token may only revoke itself");
      }
      const beyond = target.scopes.filter((s) => !held.has(s));
      return beyond.length === 0
        ? null
        : refusal(
            "TOKEN_BEYOND_REACH",
            `token ${target.id} holds ${beyond.join(", ")}, which this token does not: only a token holding every scope of another may revoke it`,
            { scopes: beyond },
          );
    }
  }
}
