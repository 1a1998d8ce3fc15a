import { describe, expect, it } from "vitest";
import { MAX_POLICY_BYTES } from "./canonical.js";
import { evaluate } from "./evaluate.js";
import { generateBucketPolicy, sessionCutoffCapacity } from "./generate.js";
import type { BucketSpec, SessionCutoff } from "./spec.js";

// Capacity and overflow of the cut-off statements. S3 refuses a bucket policy over 20 KB
// (S3 API Reference, PutBucketPolicy); whatever the number of cut-offs, the generated policy must
// fit, refuse every ended user's sessions of the set, and keep other sets untouched.

const ACCOUNT = "111122223333";
const BUCKET = "cutoff-data";
const ROLE = (set: string) =>
  `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_${set}_0123456789abcdef`;
const spec: BucketSpec = {
  bucket: BUCKET,
  accountId: ACCOUNT,
  capabilities: {
    "administer-resource": [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/Keyturn` }],
    "read-config": [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/Keyturn` }],
    "read-data": [{ permissionSet: "S3Access" }, { permissionSet: "S3Read" }],
    "write-data": [{ permissionSet: "S3Access" }],
  },
};
const NOW = "2030-01-01T00:30:00Z";
const userId = (index: number) =>
  `906739ffd8-${index.toString(16).padStart(8, "0")}-0b6a-4b7e-9a51-${index.toString(16).padStart(12, "0")}`;

function cutoffs(
  count: number,
  options: { set?: string; closedAt?: string; from?: number } = {},
): SessionCutoff[] {
  return Array.from({ length: count }, (_, i) => ({
    identityStoreUserId: userId((options.from ?? 0) + i),
    accountId: ACCOUNT,
    permissionSet: options.set ?? "S3Access",
    until: "2030-01-01T01:00:00Z",
    ...(options.closedAt === undefined ? {} : { closedAt: options.closedAt }),
  }));
}

function generate(list: SessionCutoff[], reserveBytes = 0) {
  const result = generateBucketPolicy({ ...spec, sessionCutoffs: list }, { reserveBytes });
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value;
}

/** Whether the bucket policy alone lets this session read (same account: no identity policy). */
function reads(
  policy: ReturnType<typeof generate>,
  session: { user: string; set?: string; issued?: string },
): boolean {
  const arn = ROLE(session.set ?? "S3Access");
  const result = evaluate(
    {
      principal: { type: "AWS", arn, accountId: ACCOUNT },
      action: "s3:GetObject",
      resource: `arn:aws:s3:::${BUCKET}/k`,
      context: {
        "aws:PrincipalArn": arn,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:SecureTransport": "true",
        "aws:CurrentTime": NOW,
        "aws:TokenIssueTime": session.issued ?? "2030-01-01T00:00:00Z",
        "identitystore:userId": session.user,
      },
    },
    [{ kind: "resource", name: "bucket", document: policy.policy }],
  );
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.evaluation.decision === "Allow";
}

const capacity = sessionCutoffCapacity(spec);

/** Every 7th cut-off, the first and the last: enough to catch one left out, cheap on a busy machine. */
const sample = <T>(items: readonly T[]): T[] =>
  items.filter((_, index) => index % 7 === 0 || index === items.length - 1);

describe("session cut-off capacity", () => {
  it("is a few hundred long-form user ids, and exactly that many fit listed by user", () => {
    expect(capacity).toBeGreaterThan(250);
    expect(generate(cutoffs(capacity)).cutoffs).toEqual({
      listed: capacity,
      prearmed: 0,
      prearmDeferred: 0,
      roleWide: [],
    });
    expect(generate(cutoffs(capacity + 1)).cutoffs.roleWide).not.toEqual([]);
  });

  it("shrinks with the bytes an apply must keep for statements Keyturn did not write", () => {
    expect(sessionCutoffCapacity(spec, { reserveBytes: 4000 })).toBeLessThan(capacity - 90);
  });
});

describe("more cut-offs than fit", () => {
  const entitled = userId(99_999);

  it("with twice the capacity pending removal: the set is closed to everyone, other sets untouched", () => {
    const list = cutoffs(2 * capacity);
    const policy = generate(list);
    expect(policy.bytes).toBeLessThanOrEqual(MAX_POLICY_BYTES);
    expect(policy.cutoffs.roleWide).toEqual([
      {
        accountId: ACCOUNT,
        permissionSet: "S3Access",
        fold: "all",
        issuedBefore: null,
        cutoffs: 2 * capacity,
      },
    ]);
    for (const cutoff of sample(list)) {
      expect(reads(policy, { user: cutoff.identityStoreUserId, issued: "2030-01-01T00:29:00Z" })).toBe(false);
    }
    expect(reads(policy, { user: entitled, issued: "2030-01-01T00:29:59Z" })).toBe(false);
    expect(reads(policy, { user: cutoffs(1)[0]?.identityStoreUserId ?? "", set: "S3Read" })).toBe(true);
  });

  it("with the removals confirmed: one role-wide deny of older sessions, new sessions work", () => {
    const closedAt = "2030-01-01T00:20:00.000Z";
    const list = cutoffs(2 * capacity, { closedAt });
    const policy = generate(list);
    expect(policy.cutoffs).toEqual({
      listed: 0,
      prearmed: 0,
      prearmDeferred: 0,
      roleWide: [
        {
          accountId: ACCOUNT,
          permissionSet: "S3Access",
          fold: "closed",
          issuedBefore: closedAt,
          cutoffs: 2 * capacity,
        },
      ],
    });
    for (const cutoff of sample(list)) {
      expect(reads(policy, { user: cutoff.identityStoreUserId, issued: "2030-01-01T00:19:59Z" })).toBe(false);
    }
    // An entitled holder's old session is refused (they must sign in again), a new one works.
    expect(reads(policy, { user: entitled, issued: "2030-01-01T00:10:00Z" })).toBe(false);
    expect(reads(policy, { user: entitled, issued: "2030-01-01T00:20:00Z" })).toBe(true);
  });

  it("folds the closed cut-offs first and keeps the pending ones listed by user while they fit", () => {
    const closedAt = "2030-01-01T00:20:00.000Z";
    const pending = cutoffs(capacity - 20, { from: 0 });
    const closed = cutoffs(capacity, { closedAt, from: 10_000 });
    const policy = generate([...pending, ...closed]);
    expect(policy.cutoffs.listed).toBe(pending.length);
    expect(policy.cutoffs.roleWide).toMatchObject([{ fold: "closed", cutoffs: capacity }]);
    // Pending users' sessions are refused whenever issued (they may still mint new ones).
    expect(
      reads(policy, { user: pending[0]?.identityStoreUserId ?? "", issued: "2030-01-01T00:25:00Z" }),
    ).toBe(false);
    expect(reads(policy, { user: entitled, issued: "2030-01-01T00:25:00Z" })).toBe(true);
  });

  it("fits whatever the mix, across several sets, never dropping a cut-off", () => {
    for (const [pendingA, closedA, pendingB] of [
      [0, 3 * capacity, 0],
      [capacity, capacity, capacity],
      [2 * capacity, 0, 2 * capacity],
    ] as const) {
      const list = [
        ...cutoffs(pendingA),
        ...cutoffs(closedA, { closedAt: "2030-01-01T00:20:00Z", from: 50_000 }),
        ...cutoffs(pendingB, { set: "S3Read", from: 90_000 }),
      ];
      const policy = generate(list);
      expect(policy.bytes).toBeLessThanOrEqual(MAX_POLICY_BYTES);
      const folded = policy.cutoffs.roleWide.reduce((sum, set) => sum + set.cutoffs, 0);
      expect(policy.cutoffs.listed + folded).toBe(list.length);
      for (const cutoff of sample(list)) {
        expect(
          reads(policy, {
            user: cutoff.identityStoreUserId,
            set: cutoff.permissionSet,
            issued: "2030-01-01T00:19:00Z",
          }),
        ).toBe(false);
      }
    }
  });

  it("folds to make room for the statements an apply keeps", () => {
    expect(generate(cutoffs(capacity - 50)).cutoffs.roleWide).toEqual([]);
    expect(generate(cutoffs(capacity - 50), 4000).cutoffs.roleWide).toHaveLength(1);
    const tooMuch = generateBucketPolicy({ ...spec, sessionCutoffs: cutoffs(10) }, { reserveBytes: 19_000 });
    expect(!tooMuch.ok && tooMuch.error.code).toBe("POLICY_TOO_LARGE");
  });
});
