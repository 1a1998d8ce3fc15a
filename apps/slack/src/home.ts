import { isApprover, mayRequest } from "@keyturn/core";
import { findIdentityByEmail, listSlackRequestRows, toRequestCard } from "@keyturn/db";
import { appHomeView, type RequestCard, section } from "@keyturn/slack";
import type { WebClient } from "@slack/web-api";
import { actorOf, currentFlows, groupIds, type Services } from "./services.js";
import { refusalText } from "./slack-errors.js";

const REVIEW_SCAN_LIMIT = 100;

/** Builds and publishes one person's Home tab from the database as it is now. */
export async function publishHome(services: Services, client: WebClient, userId: string): Promise<void> {
  const { db } = services;
  const [flows, pendingAll] = await Promise.all([
    currentFlows(db),
    listSlackRequestRows(db, { statuses: ["pending"], limit: REVIEW_SCAN_LIMIT }),
  ]);
  const pendingCards = pendingAll.map(toRequestCard);
  const groups = [
    ...flows.flatMap((f) => groupIds(f.rules.requesters)),
    ...pendingCards.flatMap((c) => groupIds(c.flow.rules.approvers)),
  ];
  const who = await services.identity.resolve(userId, { groups });
  if (!who.ok) {
    await client.views.publish({
      user_id: userId,
      view: { type: "home", blocks: [section(refusalText(who), "home.refused")] },
    });
    return;
  }
  const actor = actorOf(who.principal);
  const me = await findIdentityByEmail(db, who.email);
  const mine: RequestCard[] =
    me === null
      ? []
      : (
          await listSlackRequestRows(db, {
            requesterId: me.id,
            statuses: ["pending", "approved", "active"],
            limit: 30,
          })
        ).map(toRequestCard);
  const isMe = (email: string) => email.toLowerCase() === who.email.toLowerCase();
  const toReview = pendingCards.filter(
    (card) =>
      !isMe(card.requester.email) &&
      isApprover(card.flow.rules, actor) &&
      !card.reviews.some((review) => isMe(review.reviewer.email)),
  );
  await client.views.publish({
    user_id: userId,
    view: appHomeView({
      now: services.usecases.clock.now(),
      active: mine.filter((c) => c.status === "active" || c.status === "approved"),
      pending: mine.filter((c) => c.status === "pending"),
      toReview,
      canRequest: flows.some((f) => mayRequest(f.rules, actor)),
    }),
  });
}
