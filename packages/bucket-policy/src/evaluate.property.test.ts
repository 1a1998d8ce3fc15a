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
const OTHER_ACCOUNT = "444455556666";
const DATA_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_S3Access_0123456789abcdef`;
const DATA_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_S3Access_0123456789abcdef/alice`;
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/admin`;
const USER = `arn:aws:iam::${ACCOUNT}:user/bob`;
const FOREIGN_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/partner`;
const canonical = (account: string) => `canonical-${account}`;

// Small alphabets so that random statements and requests actually meet.
const ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"];
const ACTION_PATTERNS = [...ACTIONS, "s3:Get*", "s3:*Object", "S3:GETOBJECT", "s3:?utObject", "s3:*", "*"];
const RESOURCES = ["arn:aws:s3:::b", "arn:aws:s3:::b/k", "arn:aws:s3:::b/dir/k", "arn:aws:s3:::c/k"];
const RESOURCE_PATTERNS = [...RESOURCES, "arn:aws:s3:::b/*", "arn:aws:s3:::?/k", "arn:aws:s3:::b*", "*"];
const OPEN_RESOURCE_PATTERNS = [`arn:aws:s3:::b/\${aws:username}`, `arn:aws:s3:::b/\${aws:username}/*`];
const PRINCIPALS: Principal[] = [
  {
    type: "AWS",
    arn: DATA_ROLE,
    accountId: ACCOUNT,
    sessionArn: DATA_SESSION,
    canonicalUserId: canonical(ACCOUNT),
  },
  {
    type: "AWS",
    arn: ADMIN_ROLE,
    accountId: ACCOUNT,
    sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin/carol`,
    canonicalUserId: canonical(ACCOUNT),
  },
  { type: "AWS", arn: USER, accountId: ACCOUNT, canonicalUserId: canonical(ACCOUNT) },
  {
    type: "AWS",
    arn: `arn:aws:iam::${ACCOUNT}:root`,
    accountId: ACCOUNT,
    canonicalUserId: canonical(ACCOUNT),
  },
  {
    type: "AWS",
    arn: FOREIGN_ROLE,
    accountId: OTHER_ACCOUNT,
    sessionArn: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/partner/dan`,
    canonicalUserId: canonical(OTHER_ACCOUNT),
  },
  { type: "Anonymous" },
];
const PRINCIPAL_ELEMENTS: unknown[] = [
  "*",
  { AWS: "*" },
  { AWS: ACCOUNT },
  { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  { AWS: OTHER_ACCOUNT },
  { AWS: DATA_ROLE },
  { AWS: DATA_SESSION },
  { AWS: [ACCOUNT, DATA_ROLE, DATA_SESSION] },
  { AWS: USER },
  { CanonicalUser: canonical(ACCOUNT) },
  { Service: "s3.amazonaws.com" },
];
// Conditions AWS's documentation decides for every request this file makes.
const DECIDED_CONDITIONS = [
  { Bool: { "aws:SecureTransport": "false" } },
  { Null: { "s3:x-amz-server-side-encryption": "true" } },
  { Null: { "s3:x-amz-server-side-encryption": "false" } },
  { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
  { StringEqualsIfExists: { "s3:x-amz-server-side-encryption": "AES256" } },
  { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/aws-reserved/*" } },
  { ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/admin", "arn:aws:iam::*:role/*S3Access_*"] } },
  { "ForAnyValue:StringLike": { "aws:TagKeys": "team*" } },
  { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } },
  { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] } },
  { NumericLessThan: { "s3:max-keys": "10" } },
  { StringLike: { "s3:prefix": `home/\${aws:username, 'guest'}/*` } },
];
// Conditions that are undetermined for some of those requests (a source that is not an address
// under NotIpAddress, "ten" under NumericNotEquals, no aws:username for the variable).
const OPEN_CONDITIONS = [
  { NotIpAddress: { "aws:SourceIp": "2001:db8::/32" } },
  { "ForAnyValue:StringEqualsIfExists": { "aws:TagKeys": "team" } },
  { NumericNotEquals: { "s3:max-keys": "10" } },
  { StringLike: { "s3:prefix": `home/\${aws:username}/*` } },
  { NotIpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] } },
];

type Statement = Record<string, unknown>;

const either = <T>(values: readonly T[]) =>
  fc.tuple(fc.boolean(), fc.subarray([...values], { minLength: 1, maxLength: 3 }));

/** `open`: may use the constructs whose outcome AWS leaves undetermined. */
const statementArbitrary = (kind: PolicyInput["kind"], open: boolean): fc.Arbitrary<Statement> =>
  fc
    .record({
      effect: fc.constantFrom("Allow", "Deny"),
      principal: fc.constantFrom(...PRINCIPAL_ELEMENTS),
      notPrincipal: fc.boolean(),
      actions: either(ACTION_PATTERNS),
      resources: either(open ? [...RESOURCE_PATTERNS, ...OPEN_RESOURCE_PATTERNS] : RESOURCE_PATTERNS),
      condition: fc.option(fc.constantFrom(...DECIDED_CONDITIONS, ...(open ? OPEN_CONDITIONS : [])), {
        nil: undefined,
      }),
    })
    .map(({ effect, principal, notPrincipal, actions, resources, condition }) => ({
      Effect: effect,
      // NotPrincipal with Allow is undetermined by design; only open statements may use it.
      ...(kind === "resource"
        ? { [notPrincipal && (open || effect === "Deny") ? "NotPrincipal" : "Principal"]: principal }
        : {}),
      [actions[0] ? "NotAction" : "Action"]: actions[1],
      [resources[0] ? "NotResource" : "Resource"]: resources[1],
      ...(condition === undefined ? {} : { Condition: condition }),
    }));

const requestArbitrary: fc.Arbitrary<AuthorizationRequest> = fc
  .record({
    principal: fc.constantFrom(...PRINCIPALS),
    action: fc.constantFrom(...ACTIONS),
    resource: fc.constantFrom(...RESOURCES),
    resourceAccount: fc.constantFrom(ACCOUNT, OTHER_ACCOUNT),
    secure: fc.constantFrom("true", "false", undefined),
    encryption: fc.constantFrom("aws:kms", "AES256", undefined),
    tags: fc.option(fc.subarray(["team", "owner", "team-lead", "cost"]), { nil: undefined }),
    sourceIp: fc.constantFrom("10.1.2.3", "203.0.113.9", "2001:db8::1", "::1", "not-an-ip", undefined),
    maxKeys: fc.constantFrom("5", "10", "ten", undefined),
    username: fc.constantFrom("alice", undefined),
    prefix: fc.constantFrom("home/alice/x", "home/guest/x", undefined),
  })
  .map(
    ({
      principal,
      action,
      resource,
      resourceAccount,
      secure,
      encryption,
      tags,
      sourceIp,
      maxKeys,
      username,
      prefix,
    }) => ({
      principal,
      action,
      resource,
      resourceAccount,
      context: {
        "aws:PrincipalArn": principal.type === "AWS" ? principal.arn : undefined,
        "aws:SecureTransport": secure,
        "s3:x-amz-server-side-encryption": encryption,
        "aws:TagKeys": tags,
        "aws:SourceIp": sourceIp,
        "s3:max-keys": maxKeys,
        "aws:username": username,
        "s3:prefix": prefix,
      },
    }),
  );

type Scenario = { identity: Statement[]; resource: Statement[] };

// Unique Sids let decidedBy be compared across reorderings.
const withSids = (prefix: string) => (statements: Statement[]) =>
  statements.map((statement, index) => ({ Sid: `${prefix}${index}`, ...statement }));
const scenarioOf = (open: boolean): fc.Arbitrary<Scenario> =>
  fc.record({
    identity: fc.array(statementArbitrary("identity", open), { maxLength: 4 }).map(withSids("I")),
    resource: fc.array(statementArbitrary("resource", open), { maxLength: 4 }).map(withSids("R")),
  });
const scenarioArbitrary = scenarioOf(true);

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
const empty: Scenario = { identity: [], resource: [] };
const allowAll = { Sid: "AllowAll", Effect: "Allow", Action: "*", Resource: "*" };

const kindArbitrary = fc.constantFrom<PolicyInput["kind"]>("identity", "resource");
const extraStatement = (effect: "Allow" | "Deny") =>
  kindArbitrary.chain((kind) =>
    statementArbitrary(kind, true).map((statement) => ({
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
              decide(request, addTo(empty, kind, statement)) === "ExplicitDeny",
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

  it("adding an Allow never takes access away, nor makes a decided answer open in the wrong direction", () => {
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
          if (before === "Undetermined") {
            expect(["Allow", "Undetermined"]).toContain(after);
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
    const sids = (evaluation: Evaluation) =>
      (evaluation.decision === "Undetermined" ? evaluation.undetermined : evaluation.decidedBy)
        .map((ref) => ref.sid)
        .sort();
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

  it("reaches every decision, Undetermined included, so the properties here are not vacuous", () => {
    const samples = fc.sample(fc.tuple(scenarioArbitrary, requestArbitrary), { numRuns: 2000, seed: 11 });
    const counts = new Map<string, number>();
    for (const [scenario, request] of samples) {
      const decision = decide(request, scenario);
      counts.set(decision, (counts.get(decision) ?? 0) + 1);
    }
    for (const decision of ["Allow", "ExplicitDeny", "ImplicitDeny", "Undetermined"]) {
      expect(counts.get(decision) ?? 0, decision).toBeGreaterThan(40);
    }
  });

  it("is never undetermined when every statement is one AWS's documentation decides", () => {
    fc.assert(
      fc.property(scenarioOf(false), requestArbitrary, (scenario, request) => {
        expect(decide(request, scenario)).not.toBe("Undetermined");
      }),
      RUNS,
    );
  });

  it("answers Allow only when no Deny could apply, even one AWS leaves open", () => {
    fc.assert(
      fc.property(scenarioArbitrary, requestArbitrary, (scenario, request) => {
        if (decide(request, scenario) !== "Allow") {
          return;
        }
        for (const kind of ["identity", "resource"] as const) {
          for (const statement of scenario[kind].filter((entry) => entry.Effect === "Deny")) {
            const alone = addTo(
              { identity: [allowAll], resource: [{ ...allowAll, Principal: "*" }] },
              kind,
              statement,
            );
            expect(decide(request, alone)).toBe("Allow");
          }
        }
      }),
      RUNS,
    );
  });

  it("names, when undetermined, only statements that are open on their own and could tip the answer", () => {
    fc.assert(
      fc.property(scenarioArbitrary, requestArbitrary, (scenario, request) => {
        const evaluation = run(request, policies(scenario));
        if (evaluation.decision !== "Undetermined") {
          return;
        }
        expect(evaluation.undetermined.length).toBeGreaterThan(0);
        const crossAccount =
          request.principal.type === "AWS" && request.principal.accountId !== request.resourceAccount;
        for (const ref of evaluation.undetermined) {
          const statement = scenario[ref.kind][ref.index] ?? {};
          expect(statement.Sid).toBe(ref.sid);
          expect(ref.reason).not.toBe("");
          // A world in which only this statement's openness can decide.
          let world = addTo(empty, ref.kind, statement);
          if (ref.effect === "Deny" || (crossAccount && ref.kind === "resource")) {
            world = addTo(world, "identity", allowAll);
          }
          if (ref.effect === "Deny" || (crossAccount && ref.kind === "identity")) {
            world = addTo(world, "resource", { ...allowAll, Principal: "*" });
          }
          expect(decide(request, world)).toBe("Undetermined");
        }
      }),
      RUNS,
    );
  });
});
