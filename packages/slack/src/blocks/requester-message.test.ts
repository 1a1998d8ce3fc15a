import { describe, expect, it } from "vitest";
import { actionIds, ann, approvedBy, card, T0, texts } from "../test-support.js";
import { breakGlassAlert } from "./break-glass-alert.js";
import { cliProfile, profileName } from "./cli-profile.js";
import { ACTION_IDS } from "./ids.js";
import { milestoneButtonStatus, requesterMessage, requesterMilestone } from "./requester-message.js";

const aws = { portalUrl: "https://d-1234567890.awsapps.com/start", ssoRegion: "eu-west-1" };
const expiresAt = new Date(T0.getTime() + 7200_000);
const active = card({
  status: "active",
  reviews: approvedBy(ann),
  decidedAt: T0,
  activatedAt: T0,
  expiresAt,
});

describe("requester milestones", () => {
  it("one per step: pending, each partial approval, active, each extension, the end", () => {
    expect(requesterMilestone(card())).toBe("requester:pending");
    expect(requesterMilestone(card({ reviews: approvedBy(ann) }))).toBe("requester:pending:1");
    expect(requesterMilestone(card({ status: "approved" }))).toBe("requester:approved");
    expect(requesterMilestone(active)).toBe("requester:active");
    expect(requesterMilestone({ ...active, extensionCount: 2 })).toBe("requester:active:2");
    expect(requesterMilestone(card({ status: "timed_out" }))).toBe("requester:timed_out");
    expect(
      ["requester:pending:1", "requester:approved", "requester:active:2", "requester:revoked"].map(
        milestoneButtonStatus,
      ),
    ).toEqual(["pending", "approved", "active", null]);
  });
});

describe("the ACTIVE DM", () => {
  it("says exactly how to use the access: the portal, a CLI profile, the expiry", () => {
    const { text, blocks } = requesterMessage(active, { aws, current: true });
    const epoch = expiresAt.getTime() / 1000;
    expect(text).toBe(
      `Your access request for S3Access in 111122223333 is active. Until <!date^${epoch}^{date_short_pretty} {time}|2026-03-01 11:00 UTC>.`,
    );
    const all = texts(blocks).mrkdwn.join("\n");
    expect(all).toContain("<https://d-1234567890.awsapps.com/start|AWS access portal>");
    expect(all).toContain(`until <!date^${epoch}^{date_short_pretty} {time}|2026-03-01 11:00 UTC>`);
    expect(all).toContain(`\`\`\`${cliProfile(active.target, aws)}\`\`\``);
    expect(all).toContain("aws sso login --profile keyturn-111122223333-S3Access");
    expect(actionIds(blocks)).toEqual([ACTION_IDS.extend, ACTION_IDS.revoke]);
  });

  it("renders the profile the AWS CLI reads", () => {
    expect(cliProfile(active.target, aws)).toBe(
      [
        "[profile keyturn-111122223333-S3Access]",
        "sso_session = keyturn",
        "sso_account_id = 111122223333",
        "sso_role_name = S3Access",
        "region = eu-west-1",
        "",
        "[sso-session keyturn]",
        "sso_start_url = https://d-1234567890.awsapps.com/start",
        "sso_region = eu-west-1",
        "sso_registration_scopes = sso:account:access",
      ].join("\n"),
    );
    expect(profileName({ accountId: "1", permissionSetName: "Data Read/Only" })).toBe(
      "keyturn-1-Data-Read-Only",
    );
  });

  it("offers Extend only while the flow allows the requester to", () => {
    expect(
      actionIds(requesterMessage({ ...active, extensionCount: 2 }, { aws, current: true }).blocks),
    ).toEqual([ACTION_IDS.revoke]);
    const needsApprover = card(
      { status: "active", expiresAt },
      { extensions: { maxCount: 1, maxExtensionSeconds: 3600, requiresApproval: true } },
    );
    const message = requesterMessage(needsApprover, { aws, current: true });
    expect(actionIds(message.blocks)).toEqual([ACTION_IDS.revoke]);
    expect(texts(message.blocks).mrkdwn.join("\n")).toContain("An approver can extend it by up to 1h");
  });

  it("an earlier step's message loses its buttons once the request moved on", () => {
    const later = { ...active, status: "revoked" as const };
    const old = requesterMessage(later, { aws, current: false, status: "active" });
    expect(actionIds(old.blocks)).toEqual([]);
    expect(texts(old.blocks).mrkdwn.join("\n")).toContain("This step is over");
    expect(actionIds(requesterMessage(later, { aws, current: false, status: "pending" }).blocks)).toEqual([]);
  });
});

describe("other requester DMs", () => {
  it("pending: the rules, the progress and a Cancel button", () => {
    const { blocks } = requesterMessage(card({ reviews: approvedBy(ann) }), { aws, current: true });
    expect(texts(blocks).mrkdwn).toEqual(expect.arrayContaining(["1 of 2 approvals: <@U0ANN>"]));
    expect(actionIds(blocks)).toEqual([ACTION_IDS.cancel]);
  });

  it("failed: what AWS said, escaped", () => {
    const { blocks } = requesterMessage(card({ status: "failed", failureReason: "no <user> found" }), {
      aws,
      current: true,
    });
    expect(texts(blocks).mrkdwn).toContain("AWS said: no &lt;user&gt; found");
  });
});

describe("the break-glass alert", () => {
  it("is loud, names who took what, asks for a review and offers Revoke while live", () => {
    const alert = breakGlassAlert(
      card({ status: "active", breakGlass: true, expiresAt }, { breakGlass: true }),
    );
    expect(alert.text).toBe(
      "<!here> :rotating_light: Break-glass: <@U0ALICE> took S3Access in 111122223333. Please review.",
    );
    expect(texts(alert.blocks).mrkdwn.join("\n")).toContain("*Approvers: please review it now.*");
    expect(actionIds(alert.blocks)).toEqual([ACTION_IDS.revoke]);
    expect(actionIds(breakGlassAlert(card({ status: "expired", breakGlass: true })).blocks)).toEqual([]);
  });
});
