import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CAPABILITIES, type Capability } from "./capabilities.js";
import { evaluate } from "./evaluate.js";
import { generateBucketPolicy } from "./generate.js";
import type { BucketSpec, PrincipalRef } from "./spec.js";

const ACCOUNT = "111122223333";
const OTHER = "444455556666";
const BUCKET = "prop-bucket";
const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

type Caller = { arn: string; account: string; holds: (ref: PrincipalRef) => boolean };

const ROLES = [
  `arn:aws:iam::${ACCOUNT}:role/Admin`,
  `arn:aws:iam::${ACCOUNT}:role/deploy/ci`,
  `arn:aws:iam::${ACCOUNT}:role/Auditor`,
  `arn:aws:iam::${OTHER}:role/partner`,
];
// Names chosen to collide: shared prefixes, shared suffixes, the same name in another account.
const SETS = [
  { name: "S3Access", accountId: ACCOUNT },
  { name: "S3Access_Admin", accountId: ACCOUNT },
  { name: "S3AccessAdmin", accountId: ACCOUNT },
  { name: "X_AWSReservedSSO_S3Access", accountId: ACCOUNT },
  { name: "Analysts", accountId: ACCOUNT },
  { name: "S3Access", accountId: OTHER },
];
const POOL: PrincipalRef[] = [
  ...ROLES.map((roleArn) => ({ roleArn })),
  ...SETS.map(({ name, accountId }) => ({ permissionSet: name, accountId })),
];

const roleCaller = (arn: string): Caller => ({
  arn,
  account: arn.split(":")[4] ?? "",
  holds: (ref) => "roleArn" in ref && ref.roleArn === arn,
});

const callerArbitrary: fc.Arbitrary<Caller> = fc.oneof(
  fc.constantFrom(...ROLES, `arn:aws:iam::${ACCOUNT}:role/Stranger`).map(roleCaller),
  fc
    .record({
      set: fc.constantFrom(...SETS),
      suffix: fc.stringMatching(/^[0-9a-f]{16}$/),
      region: fc.constantFrom("", "eu-west-1/", "us-west-2/"),
    })
    .map(({ set, suffix, region }) => ({
      arn: `arn:aws:iam::${set.accountId}:role/aws-reserved/sso.amazonaws.com/${region}AWSReservedSSO_${set.name}_${suffix}`,
      account: set.accountId,
      holds: (ref: PrincipalRef) =>
        "permissionSet" in ref && ref.permissionSet === set.name && ref.accountId === set.accountId,
    })),
);

const specArbitrary: fc.Arbitrary<BucketSpec> = fc
  .record({
    capabilities: fc.record(
      Object.fromEntries(CAPABILITIES.map((c) => [c, fc.subarray(POOL, { maxLength: 4 })])) as Record<
        Capability,
        fc.Arbitrary<PrincipalRef[]>
      >,
    ),
    kmsRequired: fc.option(fc.boolean(), { nil: undefined }),
    cutoffs: fc.subarray(["u-1", "u-2", "u-3"]),
  })
  .filter(({ capabilities }) => Object.values(capabilities).some((refs) => refs.length > 0))
  .map(({ capabilities, kmsRequired, cutoffs }) => ({
    bucket: BUCKET,
    accountId: ACCOUNT,
    capabilities,
    ...(kmsRequired === undefined ? {} : { kmsRequired }),
    sessionCutoffs: cutoffs.map((identityStoreUserId) => ({
      identityStoreUserId,
      accountId: ACCOUNT,
      permissionSet: "S3Access",
      until: "2030-01-01T01:00:00Z",
    })),
  }));

function decision(
  spec: BucketSpec,
  caller: Caller,
  action: string,
  options: { identity: boolean; userId?: string; key?: boolean },
) {
  const generated = generateBucketPolicy(spec);
  if (!generated.ok) {
    throw new Error(generated.error.message);
  }
  const result = evaluate(
    {
      principal: { type: "AWS", arn: caller.arn, accountId: caller.account },
      action,
      resource: options.key === false ? `arn:aws:s3:::${BUCKET}` : `arn:aws:s3:::${BUCKET}/k`,
      context: {
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account,
        "aws:SecureTransport": "true",
        "aws:CurrentTime": "2030-01-01T00:00:00Z",
        "s3:x-amz-server-side-encryption": "aws:kms",
        "identitystore:userId": options.userId,
      },
    },
    [
      { kind: "resource", name: "bucket", document: generated.value.policy },
      ...(options.identity ? [{ kind: "identity" as const, name: "identity", document: ALLOW_ALL }] : []),
    ],
  );
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.evaluation.decision;
}

const DATA: Array<{ capability: Capability; action: string; key?: boolean }> = [
  { capability: "read-data", action: "s3:GetObject" },
  { capability: "read-data", action: "s3:ListBucket", key: false },
  { capability: "write-data", action: "s3:PutObject" },
  { capability: "delete-data", action: "s3:DeleteObject" },
];

describe("generated policies, for random specs and callers", () => {
  it("never let a principal not listed for a data capability use it, whatever its identity policy", () => {
    fc.assert(
      fc.property(specArbitrary, callerArbitrary, fc.constantFrom(...DATA), (spec, caller, data) => {
        const listed = (spec.capabilities[data.capability] ?? []).some(caller.holds);
        fc.pre(!listed);
        expect(
          decision(spec, caller, data.action, {
            identity: true,
            ...(data.key === false ? { key: false } : {}),
          }),
        ).toBe("ExplicitDeny");
      }),
      { numRuns: 400 },
    );
  });

  it("let a listed principal use its data capability through the bucket policy alone, unless cut off", () => {
    fc.assert(
      fc.property(
        specArbitrary,
        callerArbitrary,
        fc.constantFrom(...DATA),
        fc.constantFrom("u-1", "u-9"),
        (spec, caller, data, userId) => {
          const listed = (spec.capabilities[data.capability] ?? []).some(caller.holds);
          fc.pre(listed);
          // The cut-offs are of S3Access in ACCOUNT only: every other role keeps its access.
          const cutOff =
            caller.arn.startsWith(`arn:aws:iam::${ACCOUNT}:`) &&
            /\/AWSReservedSSO_S3Access_[0-9a-f]{16}$/.test(caller.arn) &&
            (spec.sessionCutoffs ?? []).some((c) => c.identityStoreUserId === userId);
          expect(
            decision(spec, caller, data.action, {
              identity: false,
              userId,
              ...(data.key === false ? { key: false } : {}),
            }),
          ).toBe(cutOff ? "ExplicitDeny" : "Allow");
        },
      ),
      { numRuns: 400 },
    );
  });

  it("produce the same bytes whatever the order of the spec's lists", () => {
    fc.assert(
      fc.property(specArbitrary, fc.integer(), (spec, seed) => {
        const shuffle = <T>(items: readonly T[]) =>
          items
            .map((item, index) => ({ item, rank: Math.sin(seed + index) }))
            .sort((a, b) => a.rank - b.rank)
            .map(({ item }) => item);
        const shuffled: BucketSpec = {
          ...spec,
          capabilities: Object.fromEntries(
            shuffle(Object.entries(spec.capabilities)).map(([capability, refs]) => [
              capability,
              shuffle(refs ?? []),
            ]),
          ),
          sessionCutoffs: shuffle(spec.sessionCutoffs ?? []),
        };
        const a = generateBucketPolicy(spec);
        const b = generateBucketPolicy(shuffled);
        expect(a.ok && b.ok && a.value.json === b.value.json).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
