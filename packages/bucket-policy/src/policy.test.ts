import { describe, expect, it } from "vitest";
import { type PolicyKind, parsePolicy } from "./policy.js";

const statement = (extra: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Action: "s3:GetObject",
  Resource: "arn:aws:s3:::bucket/*",
  ...extra,
});
const policyOf = (...statements: Record<string, unknown>[]) => ({
  Version: "2012-10-17",
  Statement: statements,
});

type ErrorCase = { name: string; document: unknown; kind?: PolicyKind; path: string; message: string };

const errorCases: ErrorCase[] = [
  { name: "not an object", document: 42, path: "", message: "Policy must be an object" },
  { name: "an array", document: [], path: "", message: "Policy must be an object" },
  {
    name: "JSON text that does not parse",
    document: "{ nope",
    path: "",
    message: "Policy is not valid JSON",
  },
  {
    name: "an unknown top-level element",
    document: { Version: "2012-10-17", Statements: [] },
    path: "Statements",
    message: "Statements is not a known element (expected Version, Id, Statement)",
  },
  {
    name: "an unknown version",
    document: { Version: "2024-01-01", Statement: [] },
    path: "Version",
    message: "Version must be one of 2012-10-17, 2008-10-17",
  },
  { name: "a numeric Id", document: { Id: 7, Statement: [] }, path: "Id", message: "Id must be a string" },
  {
    name: "no Statement",
    document: { Version: "2012-10-17" },
    path: "Statement",
    message: "Statement is required",
  },
  {
    name: "a statement that is not an object",
    document: { Statement: ["Allow"] },
    path: "Statement[0]",
    message: "Statement[0] must be an object",
  },
  {
    name: "a bad Effect in the third statement",
    document: policyOf(statement(), statement(), statement({ Effect: "allow" })),
    path: "Statement[2].Effect",
    message: "Statement[2].Effect must be Allow or Deny",
  },
  {
    name: "a bad Effect in a lone statement object",
    document: { Statement: statement({ Effect: undefined }) },
    path: "Statement.Effect",
    message: "Statement.Effect must be Allow or Deny",
  },
  {
    name: "a numeric Sid",
    document: policyOf(statement({ Sid: 1 })),
    path: "Statement[0].Sid",
    message: "Statement[0].Sid must be a string",
  },
  {
    name: "a misspelt element",
    document: policyOf(statement({ Actions: "s3:*" })),
    path: "Statement[0].Actions",
    message: "Statement[0].Actions is not a known element",
  },
  {
    name: "both Action and NotAction",
    document: policyOf(statement({ NotAction: "s3:PutObject" })),
    path: "Statement[0]",
    message: "Statement[0] must not have both Action and NotAction",
  },
  {
    name: "neither Action nor NotAction",
    document: policyOf(statement({ Action: undefined })),
    path: "Statement[0]",
    message: "Statement[0] must have an Action or NotAction",
  },
  {
    name: "neither Resource nor NotResource",
    document: policyOf(statement({ Resource: undefined })),
    path: "Statement[0]",
    message: "Statement[0] must have a Resource or NotResource",
  },
  {
    name: "an empty Action list",
    document: policyOf(statement({ Action: [] })),
    path: "Statement[0].Action",
    message: "Statement[0].Action must not be empty",
  },
  {
    name: "an action that is not a string",
    document: policyOf(statement({ Action: ["s3:GetObject", 3] })),
    path: "Statement[0].Action[1]",
    message: "Statement[0].Action[1] must be a non-empty string",
  },
  {
    name: "an action without a service prefix",
    document: policyOf(statement({ Action: "GetObject" })),
    path: "Statement[0].Action",
    message: 'Statement[0].Action must be "*" or "service:action"',
  },
  {
    name: "a NotResource that is not an ARN",
    document: policyOf(statement({ Resource: undefined, NotResource: ["arn:aws:s3:::a", "bucket/*"] })),
    path: "Statement[0].NotResource[1]",
    message: 'Statement[0].NotResource[1] must be "*" or an ARN',
  },
  {
    name: "a resource policy statement without a principal",
    document: policyOf(statement()),
    kind: "resource",
    path: "Statement[0]",
    message: "Statement[0] must have a Principal or NotPrincipal in a resource policy",
  },
  {
    name: "an identity policy statement with a principal",
    document: policyOf(statement({ NotPrincipal: { AWS: "111122223333" } })),
    kind: "identity",
    path: "Statement[0].NotPrincipal",
    message: "Statement[0].NotPrincipal is not allowed in an identity policy",
  },
  {
    name: "both Principal and NotPrincipal",
    document: policyOf(statement({ Principal: "*", NotPrincipal: "*" })),
    path: "Statement[0]",
    message: "Statement[0] must not have both Principal and NotPrincipal",
  },
  {
    name: "an unknown principal type",
    document: policyOf(statement({ Principal: { User: "alice" } })),
    path: "Statement[0].Principal.User",
    message:
      "Statement[0].Principal.User is not a known element (expected AWS, Service, Federated, CanonicalUser)",
  },
  {
    name: "a principal that is neither * nor an object",
    document: policyOf(statement({ Principal: "alice" })),
    path: "Statement[0].Principal",
    message: 'Statement[0].Principal must be "*" or an object such as {"AWS": [...]}',
  },
  {
    name: "an empty principal object",
    document: policyOf(statement({ Principal: {} })),
    path: "Statement[0].Principal",
    message: "Statement[0].Principal must name at least one principal",
  },
  {
    name: "an unknown condition operator",
    document: policyOf(statement({ Condition: { StringEqualz: { "aws:userid": "x" } } })),
    path: "Statement[0].Condition.StringEqualz",
    message: "Statement[0].Condition.StringEqualz is not a known condition operator",
  },
  {
    name: "an operator name in the wrong case",
    document: policyOf(statement({ Condition: { stringequals: { "aws:userid": "x" } } })),
    path: "Statement[0].Condition.stringequals",
    message: "is not a known condition operator",
  },
  {
    name: "an unknown set qualifier",
    document: policyOf(statement({ Condition: { "ForSomeValues:StringLike": { "aws:TagKeys": "x" } } })),
    path: 'Statement[0].Condition["ForSomeValues:StringLike"]',
    message: 'Statement[0].Condition["ForSomeValues:StringLike"] is not a known condition operator',
  },
  {
    name: "Null with IfExists",
    document: policyOf(statement({ Condition: { NullIfExists: { "aws:userid": "true" } } })),
    path: "Statement[0].Condition.NullIfExists",
    message: "is not a known condition operator",
  },
  {
    name: "an operator with no keys",
    document: policyOf(statement({ Condition: { StringEquals: {} } })),
    path: "Statement[0].Condition.StringEquals",
    message: "Statement[0].Condition.StringEquals must name at least one condition key",
  },
  {
    name: "a null condition value",
    document: policyOf(statement({ Condition: { Bool: { "aws:SecureTransport": null } } })),
    path: 'Statement[0].Condition.Bool["aws:SecureTransport"]',
    message: 'Statement[0].Condition.Bool["aws:SecureTransport"] must be a string, number or boolean',
  },
  {
    name: "a non-numeric value for a numeric operator",
    document: policyOf(statement({ Condition: { NumericLessThan: { "s3:max-keys": ["10", "ten"] } } })),
    path: 'Statement[0].Condition.NumericLessThan["s3:max-keys"][1]',
    message: 'Statement[0].Condition.NumericLessThan["s3:max-keys"][1] must be a number',
  },
  {
    name: "a value that is not a date",
    document: policyOf(statement({ Condition: { DateLessThan: { "aws:CurrentTime": "next tuesday" } } })),
    path: 'Statement[0].Condition.DateLessThan["aws:CurrentTime"]',
    message: "must be an ISO 8601 date or epoch seconds",
  },
  {
    name: "a value that is not an address",
    document: policyOf(statement({ Condition: { IpAddress: { "aws:SourceIp": "10.0.0.256/8" } } })),
    path: 'Statement[0].Condition.IpAddress["aws:SourceIp"]',
    message: "must be an IPv4 or IPv6 address or CIDR block",
  },
  {
    name: "an IPv6 block with a prefix over 128",
    document: policyOf(statement({ Condition: { NotIpAddress: { "aws:SourceIp": "2001:db8::/129" } } })),
    path: 'Statement[0].Condition.NotIpAddress["aws:SourceIp"]',
    message: "must be an IPv4 or IPv6 address or CIDR block",
  },
  {
    name: "a wildcard inside a principal ARN",
    document: policyOf(statement({ Principal: { AWS: "arn:aws:iam::111122223333:role/*" } })),
    path: "Statement[0].Principal.AWS",
    message: 'must not use a wildcard, except "*" on its own for everyone',
  },
  {
    name: "a Null value other than true/false",
    document: policyOf(statement({ Condition: { Null: { "aws:userid": "maybe" } } })),
    path: 'Statement[0].Condition.Null["aws:userid"]',
    message: 'must be "true" or "false"',
  },
];

describe("parsePolicy", () => {
  it.each(errorCases)("rejects $name", ({ document, kind, path, message }) => {
    const result = parsePolicy(document, kind);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("INVALID_POLICY");
      expect(result.error.path).toBe(path);
      expect(result.error.message).toContain(message);
    }
  });

  it("normalises single values to lists and stringifies condition scalars", () => {
    const result = parsePolicy(
      {
        Version: "2012-10-17",
        Id: "k9",
        Statement: {
          Sid: "DenyInsecure",
          Effect: "Deny",
          Principal: { AWS: "*" },
          NotAction: "s3:GetBucketLocation",
          Resource: "arn:aws:s3:::bucket",
          Condition: {
            Bool: { "aws:SecureTransport": false },
            NumericLessThan: { "s3:max-keys": [10, "20"] },
            "ForAnyValue:StringLikeIfExists": { "aws:TagKeys": [] },
          },
        },
      },
      "resource",
    );
    expect(result).toEqual({
      ok: true,
      policy: {
        version: "2012-10-17",
        id: "k9",
        statements: [
          {
            sid: "DenyInsecure",
            effect: "Deny",
            principal: { negated: false, value: { AWS: ["*"] } },
            action: { negated: true, value: ["s3:GetBucketLocation"] },
            resource: { negated: false, value: ["arn:aws:s3:::bucket"] },
            conditions: [
              {
                operator: { name: "Bool", base: "Bool", ifExists: false },
                key: "aws:SecureTransport",
                values: ["false"],
              },
              {
                operator: { name: "NumericLessThan", base: "NumericLessThan", ifExists: false },
                key: "s3:max-keys",
                values: ["10", "20"],
              },
              {
                operator: {
                  name: "ForAnyValue:StringLikeIfExists",
                  base: "StringLike",
                  set: "ForAnyValue",
                  ifExists: true,
                },
                key: "aws:TagKeys",
                values: [],
              },
            ],
          },
        ],
      },
    });
  });

  it('keeps Principal "*" and accepts either Principal form when the kind is not given', () => {
    const result = parsePolicy(policyOf(statement({ Principal: "*" }), statement()));
    expect(result.ok && result.policy.statements.map((s) => s.principal)).toEqual([
      { negated: false, value: "*" },
      undefined,
    ]);
  });

  it("accepts an empty statement list, which allows nothing", () => {
    expect(parsePolicy({ Version: "2012-10-17", Statement: [] })).toEqual({
      ok: true,
      policy: { version: "2012-10-17", statements: [] },
    });
  });

  it("parses JSON text", () => {
    const result = parsePolicy(JSON.stringify(policyOf(statement())));
    expect(result.ok && result.policy.statements).toHaveLength(1);
  });
});
