import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "./evaluate.js";
import { generateBucketPolicy, sessionCutoffCapacity } from "./generate.js";
import type { BucketSpec, SessionCutoff } from "./spec.js";

// Pre-armed cut-offs (`from`): written before the grant's end with its start as a condition, so
// S3 refuses from the end by its own clock. IAM "Condition operators" > "Date condition
// operators": DateGreaterThanEquals matches a request time at or after the policy's date; the
// request time is `aws:CurrentTime` (IAM "Global condition context keys"). Whether AWS compares
// it to the second or finer, a `from` rounded UP to the second never refuses before the end.

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
  },
};
const END = Date.parse("2030-01-01T00:10:00.400Z");
const UNTIL = "2030-01-01T02:00:00.000Z";
const iso = (ms: number) => new Date(ms).toISOString();
/** The rule the use case applies (cut-off-sessions.ts): the end rounded UP to the second. */
const fromOf = (end: number) => iso(Math.ceil(end / 1000) * 1000);
const userId = (index: number) =>
  `906739ffd8-${index.toString(16).padStart(8, "0")}-0b6a-4b7e-9a51-${index.toString(16).padStart(12, "0")}`;

function cutoffs(count: number, options: { offset?: number; from?: string } = {}): SessionCutoff[] {
  return Array.from({ length: count }, (_, i) => ({
    identityStoreUserId: userId((options.offset ?? 0) + i),
    accountId: ACCOUNT,
    permissionSet: "S3Access",
    until: UNTIL,
    ...(options.from === undefined ? {} : { from: options.from }),
  }));
}

function generate(list: SessionCutoff[]) {
  const result = generateBucketPolicy({ ...spec, sessionCutoffs: list });
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.value;
}

/** Whether the bucket policy alone lets this S3Access session read at `now` (an ISO string). */
function reads(policy: ReturnType<typeof generate>, user: string, now: string): boolean {
  const arn = ROLE("S3Access");
  const result = evaluate(
    {
      principal: { type: "AWS", arn, accountId: ACCOUNT },
      action: "s3:GetObject",
      resource: `arn:aws:s3:::${BUCKET}/k`,
      context: {
        "aws:PrincipalArn": arn,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:SecureTransport": "true",
        "aws:CurrentTime": now,
        "aws:TokenIssueTime": "2030-01-01T00:00:00Z",
        "identitystore:userId": user,
      },
    },
    [{ kind: "resource", name: "bucket", document: policy.policy }],
  );
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.evaluation.decision === "Allow";
}

const deniesOf = (policy: ReturnType<typeof generate>) =>
  policy.policy.Statement.filter((statement) => String(statement.Sid).startsWith("DenyEndedSessions"));

describe("a pre-armed cut-off", () => {
  it("is a statement of its own that starts at `from`, apart from the cut-offs in force", () => {
    const policy = generate([...cutoffs(1), ...cutoffs(2, { offset: 1, from: fromOf(END) })]);
    const denies = deniesOf(policy);
    expect(denies).toHaveLength(2);
    expect(denies[0]?.Condition).not.toHaveProperty("DateGreaterThanEquals");
    expect(denies[1]?.Condition).toMatchObject({
      DateGreaterThanEquals: { "aws:CurrentTime": "2030-01-01T00:10:01.000Z" },
      DateLessThan: { "aws:CurrentTime": UNTIL },
    });
    expect(policy.cutoffs).toEqual({ listed: 3, prearmed: 2, prearmDeferred: 0, roleWide: [] });
  });

  it.each([
    ["a second before the end", END - 1000, true],
    ["just before the end", END - 1, true],
    ["at the end (before the whole second)", END, true],
    ["at the whole second after the end", Math.ceil(END / 1000) * 1000, false],
    ["a second after the end", END + 1000, false],
    ["an hour after the end", END + 3600_000, false],
    ["at `until`", Date.parse(UNTIL), true],
  ])("%s: reads %s", (_name, now, expected) => {
    const policy = generate(cutoffs(1, { from: fromOf(END) }));
    expect(reads(policy, userId(0), iso(now))).toBe(expected);
    // Nobody else is touched, at any time.
    expect(reads(policy, userId(9), iso(now))).toBe(true);
  });

  it("never refuses before the grant's end, and always from 1 s after it until `until` (either clock precision)", () => {
    const base = Date.parse("2030-01-01T00:00:00Z");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3600_000 }),
        fc.integer({ min: -5000, max: 7200_000 }),
        (endOffset, sinceEnd) => {
          const end = base + endOffset;
          const until = end + 7200_000;
          const policy = generate([
            { ...cutoffs(1)[0], until: iso(until), from: fromOf(end) } as SessionCutoff,
          ]);
          const now = end + sinceEnd;
          // AWS's request time, to the millisecond or truncated to the second: the same verdict.
          for (const clock of [now, Math.floor(now / 1000) * 1000]) {
            const allowed = reads(policy, userId(0), iso(clock));
            if (now < end) {
              expect(allowed).toBe(true);
            } else if (now >= end + 1000 && now < until) {
              expect(allowed).toBe(false);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("pre-armed cut-offs and capacity", () => {
  const capacity = sessionCutoffCapacity(spec);

  it("fill only the room the cut-offs in force leave, earliest start first, never displacing one", () => {
    const inForce = cutoffs(capacity - 20);
    const later = cutoffs(40, { offset: 10_000, from: fromOf(END + 60_000) });
    const sooner = cutoffs(40, { offset: 20_000, from: fromOf(END) });
    const policy = generate([...inForce, ...later, ...sooner]);
    expect(policy.cutoffs.roleWide).toEqual([]);
    expect(policy.cutoffs.prearmed).toBeGreaterThan(0);
    expect(policy.cutoffs.prearmed).toBeLessThan(40);
    expect(policy.cutoffs.prearmed + policy.cutoffs.prearmDeferred).toBe(80);
    expect(policy.cutoffs.listed).toBe(inForce.length + policy.cutoffs.prearmed);
    const now = iso(END + 120_000);
    for (const cutoff of inForce.filter((_, i) => i % 7 === 0)) {
      expect(reads(policy, cutoff.identityStoreUserId, now)).toBe(false);
    }
    // The sooner ones went in first; none of the later ones did.
    expect(reads(policy, sooner[0]?.identityStoreUserId ?? "", now)).toBe(false);
    for (const cutoff of later) {
      expect(reads(policy, cutoff.identityStoreUserId, now)).toBe(true);
    }
  });

  it("are left out, never folded, when the cut-offs in force overflow: nobody is refused before their end", () => {
    const inForce = cutoffs(2 * capacity);
    const ahead = cutoffs(10, { offset: 50_000, from: fromOf(END) });
    const policy = generate([...inForce, ...ahead]);
    expect(policy.cutoffs.prearmed).toBe(0);
    expect(policy.cutoffs.prearmDeferred).toBe(10);
    expect(policy.cutoffs.roleWide.reduce((sum, set) => sum + set.cutoffs, 0)).toBe(2 * capacity);
    for (const statement of deniesOf(policy)) {
      expect(statement.Condition).not.toHaveProperty("DateGreaterThanEquals");
    }
  });

  it("with room for all: each one written", () => {
    const policy = generate([...cutoffs(10), ...cutoffs(10, { offset: 100, from: fromOf(END) })]);
    expect(policy.cutoffs).toMatchObject({ listed: 20, prearmed: 10, prearmDeferred: 0 });
  });
});
