import { describe, expect, it } from "vitest";
import { actionIds, ann, approvedBy, card, T0, texts } from "../test-support.js";
import { appHomeView } from "./app-home.js";
import { ACTION_IDS } from "./ids.js";

describe("the App Home", () => {
  const now = new Date(T0.getTime() + 30 * 60_000);
  const active = card({
    id: "a",
    status: "active",
    expiresAt: new Date(T0.getTime() + 7200_000),
    reviews: approvedBy(ann),
  });
  const pending = card({ id: "p" });
  const review = card({
    id: "r",
    requester: { email: "carol@example.com", slackUserId: "U0CAROL" },
    reason: "<!here>",
  });

  it("shows time left on my access, my pending requests and what waits on me", () => {
    const view = appHomeView({
      now,
      active: [active],
      pending: [pending],
      toReview: [review],
      canRequest: true,
    });
    const { mrkdwn, plain } = texts(view.blocks);
    expect(mrkdwn.join("\n")).toContain("1h 30m left, until <!date^");
    expect(plain).toEqual(
      expect.arrayContaining([
        "Your access",
        "Your pending requests",
        "Waiting for your review",
        "Reason: <!here>",
      ]),
    );
    expect(actionIds(view.blocks)).toEqual([
      ACTION_IDS.openRequestModal,
      ACTION_IDS.extend,
      ACTION_IDS.revoke,
      ACTION_IDS.cancel,
      ACTION_IDS.approve,
      ACTION_IDS.deny,
    ]);
    const ids = view.blocks.map((b) => b.block_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("says when there is nothing, and hides the button from people who may request nothing", () => {
    const view = appHomeView({ now, active: [], pending: [], toReview: [], canRequest: false });
    expect(texts(view.blocks).mrkdwn).toEqual(
      expect.arrayContaining(["_No active access._", "_Nothing pending._"]),
    );
    expect(actionIds(view.blocks)).toEqual([]);
  });

  it("stays within Slack's 100 blocks however much there is", () => {
    const many = Array.from({ length: 60 }, (_, i) => card({ id: `x${i}` }));
    const view = appHomeView({ now, active: many, pending: many, toReview: many, canRequest: true });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });
});
