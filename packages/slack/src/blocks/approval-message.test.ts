import { describe, expect, it } from "vitest";
import { actionIds, alice, ann, approvedBy, bob, card, ID, T0, texts } from "../test-support.js";
import { approvalMessage } from "./approval-message.js";
import { ACTION_IDS } from "./ids.js";

describe("the approval-channel message", () => {
  it("says who asks for what, for how long, why, under which rules, and offers Approve/Deny", () => {
    const { text, blocks } = approvalMessage(card());
    expect(text).toBe(
      ":key: Access request from <@U0ALICE>: S3Access in 111122223333 for 2h. :hourglass_flowing_sand: Pending approval.",
    );
    const { mrkdwn, plain } = texts(blocks);
    expect(mrkdwn).toEqual(
      expect.arrayContaining([
        "*Requester*\n<@U0ALICE>",
        "*Target*\n`S3Access` in account `111122223333`",
        "*Duration*\n2h",
        "*Flow*\nS3 production data (`s3-prod` v3)",
        "*Status*\n:hourglass_flowing_sand: Pending approval",
        "Needs 2 approvals from <!subteam^S0OPS> or ann@example.com · self-approval off · max 8h",
        "0 of 2 approvals",
      ]),
    );
    expect(plain).toEqual(expect.arrayContaining(["Reason: restore the orders table", "Ticket: INC-42"]));
    expect(actionIds(blocks)).toEqual([ACTION_IDS.approve, ACTION_IDS.deny]);
    const buttons = blocks.flatMap((b) => (b.type === "actions" ? b.elements : []));
    expect(buttons.every((button) => "value" in button && button.value === ID)).toBe(true);
  });

  it("names the API token that filed a request on the requester's behalf", () => {
    const filedBy = { tokenId: "0b7e7c1e-2f6a-4d7e-9a55-3c1f0d2e9b11", tokenName: "jira *bot*" };
    const { text, blocks } = approvalMessage(card({ filedBy }));
    expect(text).toContain("from <@U0ALICE> (filed by an integration):");
    expect(texts(blocks).mrkdwn).toContain(
      `*Requester*\n<@U0ALICE>\n_filed on their behalf by API token \`jira *bot*\` (id \`${filedBy.tokenId}\`)_`,
    );
  });

  it("shows progress towards the threshold", () => {
    const { blocks } = approvalMessage(card({ reviews: approvedBy(ann) }));
    expect(texts(blocks).mrkdwn).toContain("1 of 2 approvals: <@U0ANN>");
    expect(actionIds(blocks)).toEqual([ACTION_IDS.approve, ACTION_IDS.deny]);
  });

  it("once decided: no Approve/Deny, who decided and when; Revoke while access is live", () => {
    const decidedAt = new Date(T0.getTime() + 120_000);
    const active = approvalMessage(
      card({
        status: "active",
        reviews: approvedBy(ann, bob),
        decidedAt,
        activatedAt: decidedAt,
        expiresAt: new Date(decidedAt.getTime() + 7200_000),
      }),
    );
    expect(actionIds(active.blocks)).toEqual([ACTION_IDS.revoke]);
    expect(texts(active.blocks).mrkdwn).toEqual(
      expect.arrayContaining([
        "*Status*\n:large_green_circle: Active",
        `Approved by <@U0ANN>, <@U0BOB> · <!date^${decidedAt.getTime() / 1000}^{date_short_pretty} {time}|2026-03-01 09:02 UTC>`,
        `*Duration*\n2h, until <!date^${decidedAt.getTime() / 1000 + 7200}^{date_short_pretty} {time}|2026-03-01 11:02 UTC>`,
      ]),
    );

    const denied = approvalMessage(
      card({
        status: "denied",
        decidedAt,
        reviews: [{ reviewer: bob, decision: "deny", override: false, comment: null, at: decidedAt }],
      }),
    );
    expect(actionIds(denied.blocks)).toEqual([]);
    expect(texts(denied.blocks).mrkdwn.join("\n")).toContain("Denied by <@U0BOB>");

    const revoked = approvalMessage(
      card({
        status: "revoked",
        reviews: approvedBy(ann, bob),
        decidedAt,
        endedAt: decidedAt,
        endedBy: alice,
      }),
    );
    expect(actionIds(revoked.blocks)).toEqual([]);
    expect(texts(revoked.blocks).mrkdwn.join("\n")).toContain("Revoked by <@U0ALICE>");

    const cancelled = approvalMessage(card({ status: "cancelled", endedAt: decidedAt, endedBy: alice }));
    expect(texts(cancelled.blocks).mrkdwn.join("\n")).toContain("Cancelled by <@U0ALICE>");
  });

  it("names people without a Slack id by escaped email", () => {
    const { blocks } = approvalMessage(
      card({
        requester: { email: "x<!here>@example.com", slackUserId: null },
        reviews: approvedBy({ email: "a&b@example.com", slackUserId: null }),
      }),
    );
    const all = texts(blocks).mrkdwn.join("\n");
    expect(all).toContain("x&lt;!here&gt;@example.com");
    expect(all).toContain("a&amp;b@example.com");
  });

  it("keeps user text out of every mrkdwn field", () => {
    const evil = "<!channel> *bold* <@U123> <http://evil.example|x>";
    const { text, blocks } = approvalMessage(card({ reason: evil, ticket: evil }));
    for (const field of [text, ...texts(blocks).mrkdwn]) {
      expect(field).not.toContain("<!channel>");
      expect(field).not.toContain("<@U123>");
      expect(field).not.toContain("evil.example");
    }
    expect(texts(blocks).plain).toEqual(expect.arrayContaining([`Reason: ${evil}`, `Ticket: ${evil}`]));
  });

  it("escapes admin-written flow titles too", () => {
    const { blocks } = approvalMessage(card({}, { title: "<!everyone> Prod" }));
    expect(texts(blocks).mrkdwn.join("\n")).toContain("&lt;!everyone&gt; Prod");
  });

  it("lets approvers extend from the channel where extensions need approval", () => {
    const { blocks } = approvalMessage(
      card(
        { status: "active", expiresAt: T0 },
        { extensions: { maxCount: 1, maxExtensionSeconds: 1800, requiresApproval: true } },
      ),
    );
    expect(actionIds(blocks)).toEqual([ACTION_IDS.extend, ACTION_IDS.revoke]);
  });

  it("summarises auto-approved and break-glass rules", () => {
    expect(texts(approvalMessage(card({}, { autoApprove: true })).blocks).mrkdwn).toContain(
      "Approved automatically · max 8h",
    );
    const breakGlass = approvalMessage(card({ breakGlass: true, status: "active" }, { breakGlass: true }));
    expect(texts(breakGlass.blocks).mrkdwn).toContain(
      "Break-glass: activates at once, reviewed afterwards by <!subteam^S0OPS> or ann@example.com · max 8h",
    );
    expect(breakGlass.text).toContain(":rotating_light: Break-glass access");
  });
});

describe("approval message: integrations", () => {
  const linkedTicket = {
    provider: "jira" as const,
    key: "OPS-7",
    title: "Disk full <!channel>",
    url: "https://acme.atlassian.net/browse/OPS-7",
    state: "In Progress",
  };

  it("shows a checked ticket's title and link to approvers, the title escaped", () => {
    const text = JSON.stringify(approvalMessage(card({ ticket: "OPS-7", linkedTicket })).blocks);
    expect(text).toContain("<https://acme.atlassian.net/browse/OPS-7|OPS-7>");
    expect(text).toContain("Disk full &lt;!channel&gt;");
    expect(text).not.toContain("<!channel>");
  });

  it("tells approvers why Keyturn did not approve an on-call flow's request itself", () => {
    const note =
      "On-call check failed (unavailable: the provider is unavailable) at 2026-01-01T00:00:00.000Z; not auto-approved.";
    const text = JSON.stringify(approvalMessage(card({ onCall: { outcome: "check_failed", note } })).blocks);
    expect(text).toContain("On-call check failed (unavailable");
  });

  it("says Keyturn approved an on-call requester, and why", () => {
    const note = "Auto-approved: on call in schedule Primary (PSCHED1) until 2026-01-01T09:00:00.000Z";
    const text = JSON.stringify(
      approvalMessage(card({ status: "approved", decidedAt: T0, onCall: { outcome: "approved", note } }))
        .blocks,
    );
    expect(text).toContain("Approved by Keyturn");
    expect(text).toContain("schedule Primary (PSCHED1)");
  });

  it("says Keyturn ended access whose ticket closed", () => {
    const text = JSON.stringify(
      approvalMessage(
        card({
          status: "revoked",
          decidedAt: T0,
          endedAt: T0,
          endReason: "ended: ticket OPS-7 closed (Done)",
        }),
      ).blocks,
    );
    expect(text).toContain("Ended by Keyturn");
    expect(text).toContain("ticket OPS-7 closed");
  });
});
