import { randomBytes, randomInt } from "node:crypto";
import { hashToken } from "./create-api-token.js";
import type { Deps } from "./ports.js";
import { SYSTEM } from "./principal.js";
import { ok, type Result } from "./result.js";

// `keyturn login` without a password: the CLI asks for a sign-in, Keyturn asks the person in Slack
// (a DM with the code the terminal shows, Approve / Reject), and the CLI polls with a handle only
// it knows. Slack vouches for who clicked, so the token goes to the person the DM went to, on the
// machine that holds the handle; the code lets the person see that the two are the same sign-in.

/** How long a sign-in waits for its answer (and the CLI for its token). */
export const SIGN_IN_TTL_MS = 5 * 60_000;
/** The life of the token a sign-in hands out: a working day, then `keyturn login` again. */
export const SIGN_IN_TOKEN_TTL_MS = 12 * 3_600_000;
/**
 * A CLI token acts as its person on their own requests only: it never reads others' requests,
 * never reviews (so it cannot approve anything, their own requests included), never administers.
 */
export const SIGN_IN_TOKEN_SCOPES = ["requests:self"] as const;

// No 0/O, 1/I/L: the code is read from one screen and compared with another.
const CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ";

function signInCode(): string {
  const letters = Array.from({ length: 4 }, () => CODE_LETTERS[randomInt(CODE_LETTERS.length)]).join("");
  return `${letters}-${String(randomInt(10_000)).padStart(4, "0")}`;
}

export type CliSignInStarted = { id: string; code: string; handle: string; expiresAt: Date };

/**
 * Records a pending sign-in for a person (by email or Slack user id) and queues the Slack DM that
 * asks them. Anyone may ask (the route is unauthenticated and rate-limited): asking grants nothing,
 * it only makes Slack ask the person, who sees the host and the code.
 */
export async function createCliSignIn(
  deps: Deps,
  input: { email?: string; slackUserId?: string; host: string },
): Promise<Result<CliSignInStarted>> {
  const id = deps.ids.uuid();
  const code = signInCode();
  const handle = `kts_${randomBytes(32).toString("base64url")}`;
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + SIGN_IN_TTL_MS);
  const email = input.email?.toLowerCase() ?? null;
  const slackUserId = input.slackUserId ?? null;
  await deps.uow.run(async (tx) => {
    await tx.signIns.insert({
      id,
      code,
      handleHash: hashToken(handle),
      email,
      slackUserId,
      host: input.host,
      status: "pending",
      createdAt: now,
      expiresAt,
      decidedAt: null,
      identityStoreUserId: null,
      tokenId: null,
      redeemedAt: null,
    });
    await tx.audit.append({
      actor: SYSTEM,
      action: "signin.requested",
      data: { signInId: id, code, email, slackUserId, host: input.host, expiresAt: expiresAt.toISOString() },
    });
    await tx.outbox.add({ topic: "signin.notify", key: `signin.notify:${id}`, payload: { signInId: id } });
  });
  return ok({ id, code, handle, expiresAt });
}
