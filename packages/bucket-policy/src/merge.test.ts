import { describe, expect, it } from "vitest";
import type { JsonPolicy, JsonStatement } from "./canonical.js";
import { generateBucketPolicy } from "./generate.js";
import { livePolicyFingerprint, type PolicyPlan, planBucketPolicy } from "./merge.js";
import type { BucketSpec } from "./spec.js";

const ACCOUNT = "111122223333";
const BUCKET = "keyturn-data";
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Admin`;

const spec = (overrides: Partial<BucketSpec> = {}): BucketSpec => ({
  bucket: BUCKET,
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: ADMIN }],
    "read-config": [{ roleArn: ADMIN }],
    "read-data": [{ permissionSet: "S3Access" }],
  },
  ...overrides,
});

function policyOf(input: BucketSpec): JsonPolicy {
  const result = generateBucketPolicy(input);
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value.policy;
}

function plan(live: string | null, generated: JsonPolicy, dropForeign = false): PolicyPlan {
  const result = planBucketPolicy({ live, generated, dropForeign });
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value;
}

const partnerRead: JsonStatement = {
  Sid: "PartnerRead",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::444455556666:role/partner" },
  Action: "s3:GetObject",
  Resource: `arn:aws:s3:::${BUCKET}/shared/*`,
};
const anonymousStatement: JsonStatement = {
  Effect: "Deny",
  Principal: "*",
  Action: "s3:DeleteBucket",
  Resource: `arn:aws:s3:::${BUCKET}`,
};

describe("planBucketPolicy", () => {
  const generated = policyOf(spec());

  it("removes k9's DenyUnencryptedStorage, which refused every UploadPart, from a policy an earlier version wrote", () => {
    const earlier = {
      ...generated,
      Statement: [
        ...generated.Statement,
        {
          Sid: "DenyUnencryptedStorage",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: ["s3:PutObject"],
          Resource: [`arn:aws:s3:::${BUCKET}/*`],
          Condition: { Null: { "s3:x-amz-server-side-encryption": ["true"] } },
        },
      ],
    };
    const result = plan(JSON.stringify(earlier), generated);
    expect(result.diff.removed.map((entry) => entry.sid)).toEqual(["DenyUnencryptedStorage"]);
    expect(result.diff.foreign).toEqual([]);
    expect(result.merged.policy.Statement.map((statement) => statement.Sid)).not.toContain(
      "DenyUnencryptedStorage",
    );
  });

  it("adds every statement to a bucket without a policy", () => {
    const result = plan(null, generated);
    expect(result.diff.added.map((entry) => entry.sid)).toEqual(generated.Statement.map((s) => s.Sid));
    expect(result.diff.foreign).toEqual([]);
    expect(result.inSync).toBe(false);
    expect(result.changesLive).toBe(true);
    expect(JSON.parse(result.merged.json)).toEqual(generated);
  });

  it("is in sync with its own output, even after S3 or a person reformatted it", () => {
    expect(plan(JSON.stringify(generated), generated)).toMatchObject({ inSync: true, changesLive: false });
    const reformatted = {
      Statement: [...generated.Statement].reverse().map((statement) => {
        const { Sid, ...rest } = statement;
        const actions = statement.Action as string[];
        return {
          ...rest,
          Action: actions.length === 1 ? actions[0] : [...actions].reverse(),
          Sid,
        };
      }),
      Version: "2012-10-17",
    };
    const result = plan(JSON.stringify(reformatted, null, 2), generated);
    expect(result).toMatchObject({ inSync: true, changesLive: false });
    expect(result.diff.unchanged).toHaveLength(generated.Statement.length);
  });

  it("keeps and lists foreign statements, and drops them only when asked", () => {
    const live = { ...generated, Statement: [partnerRead, ...generated.Statement, anonymousStatement] };
    const kept = plan(JSON.stringify(live), generated);
    expect(kept.inSync).toBe(true);
    expect(kept.changesLive).toBe(false);
    expect(kept.diff.foreign).toEqual([
      { index: 0, sid: "PartnerRead", statement: partnerRead },
      { index: live.Statement.length - 1, sid: null, statement: anonymousStatement },
    ]);
    expect(kept.dropped).toEqual([]);
    const merged = JSON.parse(kept.merged.json) as JsonPolicy;
    expect(merged.Statement.slice(-2)).toEqual([partnerRead, anonymousStatement]);

    const dropped = plan(JSON.stringify(live), generated, true);
    expect(dropped.dropped.map((entry) => entry.sid)).toEqual(["PartnerRead", null]);
    expect(dropped.changesLive).toBe(true);
    expect(JSON.parse(dropped.merged.json)).toEqual(generated);
  });

  it("reports owned statements that were edited, are missing or are no longer generated", () => {
    const withCutoff = policyOf(
      spec({
        sessionCutoffs: [
          {
            identityStoreUserId: "u-1",
            accountId: ACCOUNT,
            permissionSet: "S3Access",
            until: "2030-01-01T00:00:00Z",
          },
        ],
      }),
    );
    const edited = withCutoff.Statement.flatMap((statement): JsonStatement[] => {
      if (statement.Sid === "AllowRestrictedReadData") {
        return [{ ...statement, Condition: { ArnLike: { "aws:PrincipalArn": "*" } } }];
      }
      if (statement.Sid === "DenyInsecureCommunications") {
        return [];
      }
      if (statement.Sid === "DenyEveryoneElse") {
        return [statement, statement];
      }
      return [statement];
    });
    const result = plan(JSON.stringify({ ...withCutoff, Statement: edited }), generated);
    expect(result.inSync).toBe(false);
    expect(result.diff.changed.map((entry) => entry.sid)).toEqual(["AllowRestrictedReadData"]);
    expect(result.diff.changed[0]?.live).toMatchObject({
      Condition: { ArnLike: { "aws:PrincipalArn": "*" } },
    });
    expect(result.diff.added.map((entry) => entry.sid)).toEqual(["DenyInsecureCommunications"]);
    expect(result.diff.removed.map((entry) => entry.sid).sort()).toEqual([
      "DenyEndedSessions1",
      "DenyEveryoneElse",
    ]);
    expect(JSON.parse(result.merged.json)).toEqual(generated);
  });

  it("refuses a live policy it cannot read instead of overwriting it blindly", () => {
    expect(planBucketPolicy({ live: "{not json", generated })).toMatchObject({
      ok: false,
      error: { code: "INVALID_LIVE_POLICY" },
    });
    expect(
      planBucketPolicy({ live: JSON.stringify({ Statement: [{ Effect: "Maybe" }] }), generated }),
    ).toMatchObject({
      ok: false,
      error: { code: "INVALID_LIVE_POLICY", message: expect.stringMatching(/Effect/) },
    });
  });

  it("counts kept foreign statements against the 20 KB limit", () => {
    const bulky = Array.from({ length: 80 }, (_, i) => ({
      ...partnerRead,
      Sid: `Partner${i}`,
      Resource: `arn:aws:s3:::${BUCKET}/p${i}/${"x".repeat(150)}`,
    }));
    const live = JSON.stringify({ ...generated, Statement: [...generated.Statement, ...bulky] });
    expect(planBucketPolicy({ live, generated })).toMatchObject({
      ok: false,
      error: { code: "POLICY_TOO_LARGE", limit: 20480 },
    });
    expect(planBucketPolicy({ live, generated, dropForeign: true }).ok).toBe(true);
  });
});

describe("livePolicyFingerprint", () => {
  it("ignores statement order and formatting, and sees real edits", () => {
    const generated = policyOf(spec());
    const a = livePolicyFingerprint(JSON.stringify(generated));
    const b = livePolicyFingerprint(
      JSON.stringify({ ...generated, Statement: [...generated.Statement].reverse() }, null, 1),
    );
    const c = livePolicyFingerprint(
      JSON.stringify({ ...generated, Statement: [...generated.Statement, partnerRead] }),
    );
    expect(a.ok && b.ok && a.value === b.value).toBe(true);
    expect(a.ok && c.ok && a.value !== c.value).toBe(true);
    expect(livePolicyFingerprint(null)).toEqual({ ok: true, value: null });
  });
});
