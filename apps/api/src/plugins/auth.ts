import { findActiveTokenByHash, type PrismaClient } from "@keyturn/db";
import { type ApiScope, type ApiTokenRecord, type Clock, hashToken, type Principal } from "@keyturn/usecases";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpProblem } from "../http-errors.js";
import type { TokenRateLimit } from "./rate-limit.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scopes that admit a caller to this route: holding any one of them is enough. */
    scopes?: readonly ApiScope[];
  }
  interface FastifyRequest {
    /** Set by the auth hook on every /v1 route before its handler runs. */
    auth: Authenticated | null;
  }
}

export type Authenticated = { token: ApiTokenRecord; scopes: ReadonlySet<string> };

const CHALLENGE = 'Bearer realm="keyturn"';
// Tokens are kt_<hex>_<base64url>; anything outside this alphabet or length is not worth a lookup.
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{16,256}$/;

function unauthenticated(detail: string, invalidToken: boolean): HttpProblem {
  return new HttpProblem("UNAUTHENTICATED", detail, {
    headers: { "www-authenticate": invalidToken ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE },
  });
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === "") {
    throw unauthenticated("send an API token as 'Authorization: Bearer <token>'", false);
  }
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined || !TOKEN_SHAPE.test(token)) {
    throw unauthenticated("the Authorization header must be 'Bearer <token>'", true);
  }
  return token;
}

/**
 * The active token a presented secret belongs to; null for one that is unknown, revoked, expired or
 * not even shaped like a token. Shared by the bearer hook and the queue dashboard's Basic auth.
 */
export type TokenVerifier = (token: string) => Promise<ApiTokenRecord | null>;

// Secrets that matched no active token, by hash. Unknown, revoked and expired stay so (a secret is
// random: nobody presents one before it is minted), so asking again would only cost a lookup.
const REFUSED_MEMORY = 10_000;
const REFUSED_TTL_MS = 10 * 60_000;

export function createTokenVerifier(deps: { prisma: PrismaClient; clock: Clock }): TokenVerifier {
  // Insertion order is expiry order; the oldest entries go first when it is full.
  const refused = new Map<string, number>();
  return async (token) => {
    if (!TOKEN_SHAPE.test(token)) {
      return null;
    }
    const hash = hashToken(token);
    const nowMs = deps.clock.now().getTime();
    const until = refused.get(hash);
    if (until !== undefined && until > nowMs) {
      return null;
    }
    const record = await findActiveTokenByHash(deps.prisma, hash, deps.clock.now());
    if (record === null) {
      refused.delete(hash);
      refused.set(hash, nowMs + REFUSED_TTL_MS);
      for (const oldest of refused.keys()) {
        if (refused.size <= REFUSED_MEMORY) {
          break;
        }
        refused.delete(oldest);
      }
    }
    return record;
  };
}

export function insufficientScope(scopes: readonly string[]): HttpProblem {
  const wanted =
    scopes.length === 1
      ? `scope '${scopes[0]}'`
      : `one of the scopes ${scopes.map((s) => `'${s}'`).join(", ")}`;
  return new HttpProblem("INSUFFICIENT_SCOPE", `this token lacks ${wanted}`, {
    headers: { "www-authenticate": `${CHALLENGE}, error="insufficient_scope", scope="${scopes.join(" ")}"` },
  });
}

/**
 * Authenticates every route registered in `scope` (the /v1 context) and enforces the scopes each
 * route declares. A route that declares none fails at startup, so a forgotten declaration can
 * never become an open endpoint.
 */
export function registerAuth(
  scope: FastifyInstance,
  deps: { verify: TokenVerifier; limitToken: TokenRateLimit },
): void {
  scope.decorateRequest("auth", null);

  scope.addHook("onRoute", (route) => {
    const scopes = route.config?.scopes;
    if (scopes === undefined || scopes.length === 0) {
      throw new Error(`route ${route.method} ${route.url} must declare the scopes it requires`);
    }
    const described = route.schema?.description;
    route.schema = {
      ...route.schema,
      security: [{ bearer: [...scopes] }],
      description: `${described === undefined ? "" : `${described}\n\n`}Requires scope: ${scopes.join(" or ")}.`,
    };
  });

  scope.addHook("onRequest", async (request) => {
    const record = await deps.verify(bearerToken(request));
    if (record === null) {
      // One answer for unknown, revoked and expired: a caller learns nothing about other tokens.
      throw unauthenticated("the API token is unknown, revoked or expired", true);
    }
    const held = new Set<string>(record.scopes);
    request.auth = { token: record, scopes: held };
    // Per token id, however the header was spelled; a refused scope counts too.
    deps.limitToken(request);
    const required = request.routeOptions.config.scopes ?? [];
    if (!required.some((s) => held.has(s))) {
      throw insufficientScope(required);
    }
  });
}

/** The authenticated caller; only reachable on /v1 routes, where the hook has run. */
export function authOf(request: FastifyRequest): Authenticated {
  if (request.auth === null) {
    throw new HttpProblem("UNAUTHENTICATED", "send an API token as 'Authorization: Bearer <token>'");
  }
  return request.auth;
}

export function requireScope(request: FastifyRequest, scope: ApiScope): void {
  if (!authOf(request).scopes.has(scope)) {
    throw insufficientScope([scope]);
  }
}

/**
 * The person or service a token acts for. Audit events name the token; the domain sees its owner.
 * A service has no mailbox, so it appears under a `service:` name that no person's email can take.
 */
export function principalOf(request: FastifyRequest): Principal {
  const { token } = authOf(request);
  return {
    email: token.ownerKind === "person" ? token.owner : `service:${token.owner}`,
    audit: { type: "token", id: token.id, label: token.name },
  };
}

/**
 * True when the caller was admitted by `requests:self` alone, not by `need`: its token may only
 * see and act on its own person's requests (the `keyturn login` token).
 */
export function ownRequestsOnly(request: FastifyRequest, need: "requests:read" | "requests:write"): boolean {
  const { scopes } = authOf(request);
  return !scopes.has(need) && scopes.has("requests:self");
}

/** The token's person, for a caller limited to its own requests (a service has none). */
export function ownPerson(request: FastifyRequest): string | null {
  const { token } = authOf(request);
  return token.ownerKind === "person" ? token.owner : null;
}
