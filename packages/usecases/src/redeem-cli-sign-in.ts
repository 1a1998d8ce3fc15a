import { hashToken, mintApiToken } from "./create-api-token.js";
import { SIGN_IN_TOKEN_SCOPES, SIGN_IN_TOKEN_TTL_MS } from "./create-cli-sign-in.js";
import type { ApiTokenRecord, Deps } from "./ports.js";
import { err, ok, type Result } from "./result.js";

export type SignInPoll =
  | { status: "pending"; expiresAt: Date }
  | { status: "approved"; token: string; record: ApiTokenRecord };

/**
 * The CLI's poll. While the person has not answered: pending. Once they approved: their token,
 * minted here and handed out this once (a second poll is SIGN_IN_REDEEMED, so a handle that leaks
 * afterwards is worth nothing). Rejected, expired or unknown: a refusal, and nothing is minted.
 */
export async function redeemCliSignIn(deps: Deps, input: { handle: string }): Promise<Result<SignInPoll>> {
  return deps.uow.run(async (tx) => {
    const signIn = await tx.signIns.lockByHandleHash(hashToken(input.handle));
    if (signIn === null) {
      return err("SIGN_IN_NOT_FOUND", "no sign-in has this handle; run keyturn login again");
    }
    const now = deps.clock.now();
    switch (signIn.status) {
      case "redeemed":
        return err(
          "SIGN_IN_REDEEMED",
          "this sign-in's token was handed out already; run keyturn login again",
        );
      case "rejected":
        return err("SIGN_IN_REJECTED", "the sign-in was rejected in Slack");
      case "undeliverable":
        return err(
          "SIGN_IN_UNDELIVERABLE",
          `Keyturn could not reach ${signIn.email ?? signIn.slackUserId ?? "you"} in Slack to ask; check the address (or sign in with --slack-user)`,
        );
      case "pending":
        return signIn.expiresAt <= now
          ? err("SIGN_IN_EXPIRED", "the sign-in was not approved in time; run keyturn login again")
          : ok({ status: "pending", expiresAt: signIn.expiresAt });
      case "approved":
        break;
    }
    if (signIn.expiresAt <= now) {
      return err("SIGN_IN_EXPIRED", "the sign-in's token was not collected in time; run keyturn login again");
    }
    if (signIn.email === null || signIn.slackUserId === null) {
      // answerCliSignIn always records both; a row without them was not approved by that path.
      return err("SIGN_IN_NOT_FOUND", "this sign-in has no approved person; run keyturn login again");
    }
    const minted = await mintApiToken(tx, deps, {
      name: `cli:${signIn.host}`,
      ownerKind: "person",
      owner: signIn.email,
      scopes: SIGN_IN_TOKEN_SCOPES,
      expiresAt: new Date(now.getTime() + SIGN_IN_TOKEN_TTL_MS),
      by: { type: "identity", id: signIn.email, email: signIn.email, label: `slack:${signIn.slackUserId}` },
    });
    if (!minted.ok) {
      return minted;
    }
    await tx.signIns.update(signIn.id, {
      status: "redeemed",
      tokenId: minted.value.record.id,
      redeemedAt: now,
    });
    await tx.audit.append({
      actor: { type: "identity", id: signIn.email, label: `slack:${signIn.slackUserId}` },
      action: "signin.redeemed",
      data: {
        signInId: signIn.id,
        host: signIn.host,
        tokenId: minted.value.record.id,
        email: signIn.email,
        slackUserId: signIn.slackUserId,
        identityStoreUserId: signIn.identityStoreUserId,
      },
    });
    return ok({ status: "approved", token: minted.value.token, record: minted.value.record });
  });
}
