import { conditionHolds } from "./conditions.js";
import { type Policy, type Principals, parsePolicy, type Statement } from "./policy.js";
import { type ContextLookup, substituteVariables } from "./variables.js";
import { matchesWildcard } from "./wildcard.js";

export type ContextValue = string | readonly string[];
/** `arn` is the role (or user) ARN with its path, as in `aws:PrincipalArn`, never the session ARN. */
export type Principal = { type: "AWS"; arn: string; accountId: string } | { type: "Anonymous" };
export type AuthorizationRequest = {
  principal: Principal;
  action: string;
  resource: string;
  /**
   * Condition keys, looked up case-insensitively. An array is a multi-valued key: without a set
   * qualifier it matches if any of its values matches. `undefined` and `[]` both mean "absent".
   */
  context: Readonly<Record<string, ContextValue | undefined>>;
};
export type PolicyInput = { kind: "identity" | "resource"; name: string; document: unknown };
export type StatementRef = {
  policy: string;
  kind: "identity" | "resource";
  index: number;
  sid?: string;
  effect: "Allow" | "Deny";
};
export type Evaluation =
  | { decision: "Allow"; decidedBy: StatementRef[]; explanation: string }
  | { decision: "ExplicitDeny"; decidedBy: StatementRef[]; explanation: string }
  | { decision: "ImplicitDeny"; decidedBy: []; explanation: string };
export type EvaluationError = { code: "INVALID_POLICY"; message: string; policy: string; path: string };
export type EvaluateResult = { ok: true; evaluation: Evaluation } | { ok: false; error: EvaluationError };

/**
 * Same-account IAM evaluation without SCPs, permission boundaries or session policies: any matching
 * Deny wins, otherwise any matching Allow (identity OR resource policy) allows, otherwise the request is
 * implicitly denied. Every statement is evaluated, so `decidedBy` lists all that matched.
 */
export function evaluate(request: AuthorizationRequest, policies: readonly PolicyInput[]): EvaluateResult {
  const parsedPolicies: ParsedPolicyInput[] = [];
  for (const input of policies) {
    const parsed = parsePolicy(input.document, input.kind);
    if (!parsed.ok) {
      const { message, path } = parsed.error;
      return {
        ok: false,
        error: { code: "INVALID_POLICY", message: `${input.name}: ${message}`, policy: input.name, path },
      };
    }
    parsedPolicies.push({ kind: input.kind, name: input.name, policy: parsed.policy });
  }
  return { ok: true, evaluation: evaluateParsed(request, parsedPolicies) };
}

/** A policy already through `parsePolicy` (with the same `kind`), for callers that evaluate it many times. */
export type ParsedPolicyInput = { kind: "identity" | "resource"; name: string; policy: Policy };

/** `evaluate` without the parsing: the policies are trusted to be what `parsePolicy` returned. */
export function evaluateParsed(
  request: AuthorizationRequest,
  policies: readonly ParsedPolicyInput[],
): Evaluation {
  const lookup = contextLookup(request.context);
  const allows: StatementRef[] = [];
  const denies: StatementRef[] = [];
  for (const input of policies) {
    // Policy variables exist only from version 2012-10-17; older documents take `${…}` literally.
    const substitute = input.policy.version === "2012-10-17";
    input.policy.statements.forEach((statement, index) => {
      if (statementApplies(statement, request, lookup, substitute)) {
        const ref: StatementRef = {
          policy: input.name,
          kind: input.kind,
          index,
          ...(statement.sid === undefined ? {} : { sid: statement.sid }),
          effect: statement.effect,
        };
        (statement.effect === "Deny" ? denies : allows).push(ref);
      }
    });
  }
  return decide(request, allows, denies);
}

function decide(request: AuthorizationRequest, allows: StatementRef[], denies: StatementRef[]): Evaluation {
  if (denies.length > 0) {
    return {
      decision: "ExplicitDeny",
      decidedBy: denies,
      explanation: `Explicitly denied by ${describe(denies)}.`,
    };
  }
  if (allows.length > 0) {
    return {
      decision: "Allow",
      decidedBy: allows,
      explanation: `Allowed by ${describe(allows)}; no Deny matched.`,
    };
  }
  const who = request.principal.type === "AWS" ? request.principal.arn : "an anonymous caller";
  return {
    decision: "ImplicitDeny",
    decidedBy: [],
    explanation: `Implicitly denied: no statement allows ${request.action} on ${request.resource} for ${who}.`,
  };
}

function describe(refs: readonly StatementRef[]): string {
  const names = refs.map((ref) =>
    ref.sid === undefined || ref.sid === ""
      ? `${ref.policy} Statement[${ref.index}]`
      : `"${ref.sid}" (${ref.policy})`,
  );
  return names.length === 1 ? `${names[0]}` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

function statementApplies(
  statement: Statement,
  request: AuthorizationRequest,
  lookup: ContextLookup,
  substitute: boolean,
): boolean {
  const { principal, action, resource } = statement;
  if (principal !== undefined && principalMatches(principal.value, request.principal) === principal.negated) {
    return false;
  }
  const actionMatches = action.value.some((pattern) =>
    matchesWildcard(pattern, request.action, { ignoreCase: true }),
  );
  if (actionMatches === action.negated) {
    return false;
  }
  const resourceMatches = resource.value.some((value) => {
    const pattern = substitute ? substituteVariables(value, lookup, "pattern") : value;
    return pattern !== undefined && matchesWildcard(pattern, request.resource);
  });
  if (resourceMatches === resource.negated) {
    return false;
  }
  return statement.conditions.every((condition) => conditionHolds(condition, lookup, substitute));
}

const ACCOUNT_ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;

/**
 * `"*"` is everyone, anonymous included; `{"AWS": "*"}` is any authenticated AWS principal. An account id
 * or its root ARN is read as "any principal of that account" (the subtleties of AWS treating that as a
 * delegation to the account's own IAM policies are not modelled). Service, Federated and CanonicalUser
 * never match the principals this evaluator knows.
 */
function principalMatches(principals: Principals, principal: Principal): boolean {
  if (principals === "*") {
    return true;
  }
  if (principal.type === "Anonymous") {
    return false;
  }
  return (principals.AWS ?? []).some(
    (value) =>
      value === "*" ||
      value === principal.arn ||
      value === principal.accountId ||
      ACCOUNT_ROOT.exec(value)?.[1] === principal.accountId,
  );
}

function contextLookup(context: AuthorizationRequest["context"]): ContextLookup {
  const values = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(context)) {
    // An empty list is treated like a missing key: there is nothing to compare, and Null/ForAllValues
    // guards then behave the same for both.
    const list = typeof value === "string" ? [value] : value;
    if (list !== undefined && list.length > 0) {
      values.set(key.toLowerCase(), list);
    }
  }
  return (key) => values.get(key.toLowerCase());
}
