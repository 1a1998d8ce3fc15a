import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AuthorizationRequest,
  type Evaluation,
  evaluate,
  type PolicyInput,
  type Principal,
} from "./evaluate.js";

const ACCOUNT = "111122223333";
const DATA_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_S3Access_0123456789abcdef`;
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/admin`;
const FOREIGN_ROLE = "arn:aws:iam::444455556666:role/partner";

// Small alphabets so that random statements and requests actually meet.
const ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"];
const ACTION_PATTERNS = [...ACTIONS, "s3:Get*", "s3:*Object", "S3:GETOBJECT", "s3:?utObject", "s3:*", "*"];
const RESOURCES = ["arn:aws:s3:::b", "arn:aws:s3:::b/k", "arn:aws:s3:::b/dir/k", "arn:aws:s3:::c/k"];
const RESOURCE_PATTERNS = [...RESOURCES, "arn:aws:s3:::b/*", "arn:aws:s3:::?/k", "arn:aws:s3:::b*", "*"];
const PRINCIPALS: Principal[] = [
  { type: "AWS", arn: DATA_ROLE, accountId: ACCOUNT },
  { type: "AWS", arn: ADMIN_ROLE, accountId: ACCOUNT },
  { type: "AWS", arn: FOREIGN_ROLE, accountId: "444455556666" },
  { type: "Anonymous" },
];
const CONDITIONS = [
  { Bool: { "aws:SecureTransport": "false" } },
  { Null: { "s3:x-amz-server-side-encryption": "true" } },
  { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
  { StringEqualsIfExists: { "s3:x-amz-server-side-encryption": "AES256" } },
  { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/aws-reserved/*" } },
  { ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/admin", "arn:aws:iam::*:role/*S3Access_*"] } },
  { "ForAnyValue:StringLike": { "aws:TagKeys": "team*" } },
  { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } },
];

type Statement = Record<string, unknown>;

const either = <T>(values: readonly T[]) =>
  fc.tuple(fc.boolean(), fc.subarray([...values], { minLength: 1, maxLength: 3 }));

const statementArbitrary = (kind: PolicyInput["kind"]): fc.Arbitrary<Statement> =>
  fc
    .record({
      effect: fc.constantFrom("Allow", "Deny"),
      principal: fc.constantFrom<unknown>(
        "*",
        { AWS: "*" },
        { AWS: ACCOUNT },
        { AWS: DATA_ROLE },
        { Service: "s3" },
      ),
      notPrincipal: fc.boolean(),
      actions: either(ACTION_PATTERNS),
      resources: either(RESOURCE_PATTERNS),
      condition: fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined }),
    })
    .map(({ effect, principal, notPrincipal, actions, resources, condition }) => ({
      Effect: effect,
      ...(kind === "resource" ? { [notPrincipal ? "NotPrincipal" : "Principal"]: principal } : {}),
      [actions[0] ? "NotAction" : "Action"]: actions[1],
      [resources[0] ? "NotResource" : "Resource"]: resources[1],
      ...(condition === undefined ? {} : { Condition: condition }),
    }));

const requestArbitrary: fc.Arbitrary<AuthorizationRequest> = fc
  .record({
    principal: fc.constantFrom(...PRINCIPALS),
    action: fc.constantFrom(...ACTIONS),
    resource: fc.constantFrom(...RESOURCES),
    secure: fc.constantFrom("true", "false", undefined),
    encryption: fc.constantFrom("aws:kms", "AES256", undefined),
    tags: fc.option(fc.subarray(["team", "owner", "team-lead", "cost"]), { nil: undefined }),
  })
  .map(({ principal, action, resource, secure, encryption, tags }) => ({
    principal,
    action,
    resource,
    context: {
      "aws:PrincipalArn": principal.type === "AWS" ? principal.arn : undefined,
      "aws:SecureTransport": secure,
      "s3:x-amz-server-side-encryption": encryption,
      "aws:TagKeys": tags,
    },
  }));

type Scenario = { identity: Statement[]; resource: Statement[] };

// Unique Sids let decidedBy be compared across reorderings.
const withSids = (prefix: string) => (statements: Statement[]) =>
  statements.map((statement, index) => ({ Sid: `${prefix}${index}`, ...statement }));
const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  identity: fc.array(statementArbitrary("identity"), { maxLength: 4 }).map(withSids("I")),
  resource: fc.array(statementArbitrary("resource"), { maxLength: 4 }).map(withSids("R")),
});

function policies({ identity, resource }: Scenario): PolicyInput[] {
  return [
    { kind: "identity", name: "identity", document: { Version: "2012-10-17", Statement: identity } },
    { kind: "resource", name: "bucket", document: { Version: "2012-10-17", Statement: resource } },
  ];
}

function run(request: AuthorizationRequest, inputs: readonly PolicyInput[]): Evaluation {
  const result = evaluate(request, inputs);
  if (!result.ok) {
    throw new Error(result.error.message);
  }
  return result.evaluation;
}

const decide = (request: AuthorizationRequest, scenario: Scenario) =>
  run(request, policies(scenario)).decision;
const addTo = (scenario: Scenario, kind: PolicyInput["kind"], statement: Statement): Scenario =>
  kind === "identity"
    ? { ...scenario, identity: [...scenario.identity, statement] }
    : { ...scenario, resource: [...scenario.resource, statement] };

const kindArbitrary = fc.constantFrom<PolicyInput["kind"]>("identity", "resource");
const extraStatement = (effect: "Allow" | "Deny") =>
  kindArbitrary.chain((kind) =>
    statementArbitrary(kind).map((statement) => ({
      kind,
      statement: { ...statement, Effect: effect, Sid: "Extra" },
    })),
  );

const RUNS = { numRuns: 500 };

describe("evaluate (properties)", () => {
  it("is an explicit deny whenever some Deny statement matches on its own", () => {
    fc.assert(
      fc.property(scenarioArbitrary, requestArbitrary, (scenario, request) => {
        const denyMatches = (["identity", "resource"] as const).some((kind) =>
          scenario[kind].some(
            (statement) =>
              statement.Effect === "Deny" &&
              decide(request, addTo({ identity: [], resource: [] }, kind, statement)) === "ExplicitDeny",
          ),
        );
        const evaluation = run(request, policies(scenario));
        expect(evaluation.decision === "ExplicitDeny").toBe(denyMatches);
        expect(evaluation.decidedBy.every((ref) => ref.effect === (denyMatches ? "Deny" : "Allow"))).toBe(
          true,
        );
      }),
      RUNS,
    );
  });

  it("adding an Allow never takes access away", () => {
    fc.assert(
      fc.property(
        scenarioArbitrary,
        requestArbitrary,
        extraStatement("Allow"),
        (scenario, request, extra) => {
          const before = decide(request, scenario);
          const after = decide(request, addTo(scenario, extra.kind, extra.statement));
          if (before === "Allow") {
            expect(after).toBe("Allow");
          }
          if (before === "ExplicitDeny") {
            expect(after).toBe("ExplicitDeny");
          }
        },
      ),
      RUNS,
    );
  });

  it("adding a Deny never grants access", () => {
    fc.assert(
      fc.property(scenarioArbitrary, requestArbitrary, extraStatement("Deny"), (scenario, request, extra) => {
        const before = decide(request, scenario);
        const after = decide(request, addTo(scenario, extra.kind, extra.statement));
        if (before !== "Allow") {
          expect(after).not.toBe("Allow");
        }
        if (before === "ExplicitDeny") {
          expect(after).toBe("ExplicitDeny");
        }
      }),
      RUNS,
    );
  });

  it("is deterministic and independent of statement and policy order", () => {
    const shuffled = scenarioArbitrary.chain((scenario) =>
      fc.record({
        scenario: fc.constant(scenario),
        identity: fc.shuffledSubarray(scenario.identity, { minLength: scenario.identity.length }),
        resource: fc.shuffledSubarray(scenario.resource, { minLength: scenario.resource.length }),
        reversePolicies: fc.boolean(),
      }),
    );
    const sids = (evaluation: Evaluation) => evaluation.decidedBy.map((ref) => ref.sid).sort();
    fc.assert(
      fc.property(
        shuffled,
        requestArbitrary,
        ({ scenario, identity, resource, reversePolicies }, request) => {
          const original = run(request, policies(scenario));
          expect(run(request, policies(scenario))).toEqual(original);
          const reordered = policies({ identity, resource });
          const evaluation = run(request, reversePolicies ? reordered.reverse() : reordered);
          expect(evaluation.decision).toBe(original.decision);
          expect(sids(evaluation)).toEqual(sids(original));
        },
      ),
      RUNS,
    );
  });
});
