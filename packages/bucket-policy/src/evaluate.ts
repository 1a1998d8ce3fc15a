import { conditionHolds } from "./conditions.js";
import { everyMatch, isUndetermined, type Match, notMatch, someMatch, undetermined } from "./match.js";
import { type Policy, type Principals, parsePolicy, type Statement } from "./policy.js";
import { type ContextLookup, substituteVariables } from "./variables.js";
import { matchesWildcard } from "./wildcard.js";

export type ContextValue = string | readonly string[];

/**
 * Who is calling, as IAM sees it. A caller is a chain: its account, then the principal ARN
 * (`aws:PrincipalArn`: the role ARN with its path, an IAM user ARN, or `arn:aws:iam::<account>:root`
 * for the root user), then, for a role session, the session ARN. Principal and NotPrincipal are
 * matched against the whole chain, so an evaluator that only knew the role could decide neither.
 */
export type Principal =
  | {
      type: "AWS";
      arn: string;
      accountId: string;
      /** `arn:aws:sts::<account>:assumed-role/<role name>/<session name>` for a role session. */
      sessionArn?: string;
      /** S3's canonical user id of the caller's account, when known (a `CanonicalUser` principal names it). */
      canonicalUserId?: string;
    }
  | { type: "Anonymous" };

export type AuthorizationRequest = {
  principal: Principal;
  action: string;
  resource: string;
  /** The account that owns the resource. Omitted: the caller's own account. */
  resourceAccount?: string;
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
/** A statement whose effect on this request AWS's documentation does not settle, and why. */
export type UndeterminedStatement = StatementRef & { reason: string };
export type Evaluation =
  | { decision: "Allow"; decidedBy: StatementRef[]; explanation: string }
  | { decision: "ExplicitDeny"; decidedBy: StatementRef[]; explanation: string }
  | { decision: "ImplicitDeny"; decidedBy: []; explanation: string }
  | {
      decision: "Undetermined";
      decidedBy: [];
      /** The statements the answer hangs on: settle each one way or the other and AWS decides. */
      undetermined: UndeterminedStatement[];
      explanation: string;
    };
export type EvaluationError = { code: "INVALID_POLICY"; message: string; policy: string; path: string };
export type EvaluateResult = { ok: true; evaluation: Evaluation } | { ok: false; error: EvaluationError };

/**
 * IAM evaluation without SCPs, permission boundaries or session policies (IAM "Policy evaluation
 * logic", "Cross-account policy evaluation logic"):
 *
 * - any matching Deny wins;
 * - in the resource's own account an Allow in the identity OR the resource policy is enough, except
 *   that a resource policy naming the account (its id or root ARN) delegates to the account's
 *   identity policies and grants nothing by itself (IAM "AWS account principals");
 * - across accounts both the identity and the resource policy must allow; anonymous callers have
 *   only the resource policy;
 * - otherwise the request is implicitly denied.
 *
 * A statement AWS's documentation leaves open (see conditionHolds, principalElement) is carried as
 * undetermined: the answer is Undetermined only if settling those statements one way or the other
 * would change whether the request is allowed. Every statement is evaluated, so `decidedBy` lists
 * all that decided.
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

type Matched = {
  ref: StatementRef;
  match: Match;
  /** The statement names the caller only through its account: a delegation, not a grant. */
  delegated: boolean;
};

/** `evaluate` without the parsing: the policies are trusted to be what `parsePolicy` returned. */
export function evaluateParsed(
  request: AuthorizationRequest,
  policies: readonly ParsedPolicyInput[],
): Evaluation {
  const lookup = contextLookup(request.context);
  const allows: Matched[] = [];
  const denies: Matched[] = [];
  for (const input of policies) {
    // Anonymous callers have no identity policies; none can apply to them.
    if (input.kind === "identity" && request.principal.type === "Anonymous") {
      continue;
    }
    // Policy variables exist only from version 2012-10-17; older documents take `${…}` literally.
    const substitute = input.policy.version === "2012-10-17";
    input.policy.statements.forEach((statement, index) => {
      const { match, delegated } = statementMatch(statement, request, lookup, substitute);
      if (match === false) {
        return;
      }
      const ref: StatementRef = {
        policy: input.name,
        kind: input.kind,
        index,
        ...(statement.sid === undefined ? {} : { sid: statement.sid }),
        effect: statement.effect,
      };
      (statement.effect === "Deny" ? denies : allows).push({ ref, match, delegated });
    });
  }
  return decide(request, allows, denies);
}

function decide(request: AuthorizationRequest, allows: Matched[], denies: Matched[]): Evaluation {
  const explicit = denies.filter((deny) => deny.match === true);
  if (explicit.length > 0) {
    const refs = explicit.map((deny) => deny.ref);
    return {
      decision: "ExplicitDeny",
      decidedBy: refs,
      explanation: `Explicitly denied by ${describe(refs)}.`,
    };
  }
  const { principal } = request;
  const sameAccount =
    principal.type === "AWS" &&
    (request.resourceAccount === undefined || request.resourceAccount === principal.accountId);
  // The Allows that count, in evaluation order, when `holds` says which statements apply.
  const granting = (holds: (match: Match) => boolean): Matched[] => {
    const applying = allows.filter((allow) => holds(allow.match));
    if (principal.type === "Anonymous") {
      return applying.filter((allow) => allow.ref.kind === "resource" && !allow.delegated);
    }
    if (sameAccount) {
      return applying.filter((allow) => allow.ref.kind === "identity" || !allow.delegated);
    }
    const both =
      applying.some((allow) => allow.ref.kind === "identity") &&
      applying.some((allow) => allow.ref.kind === "resource");
    return both ? applying : [];
  };
  const surely = granting((match) => match === true);
  if (surely.length > 0 && !denies.some((deny) => isUndetermined(deny.match))) {
    const refs = surely.map((allow) => allow.ref);
    return {
      decision: "Allow",
      decidedBy: refs,
      explanation: `Allowed by ${describe(refs)}; no Deny matched.`,
    };
  }
  const possibly = granting((match) => match !== false);
  if (possibly.length > 0) {
    // Only the statements that could tip the answer: open Denies, and open Allows that would count.
    const open = [...denies, ...possibly].filter((matched) => isUndetermined(matched.match));
    const undeterminedStatements = open.map((matched) => ({
      ...matched.ref,
      reason: isUndetermined(matched.match) ? matched.match.undetermined : "",
    }));
    return {
      decision: "Undetermined",
      decidedBy: [],
      undetermined: undeterminedStatements,
      explanation: `Undetermined: AWS's documentation does not decide ${describe(undeterminedStatements)} (${undeterminedStatements.map((entry) => entry.reason).join("; ")}).`,
    };
  }
  const who = principal.type === "AWS" ? (principal.sessionArn ?? principal.arn) : "an anonymous caller";
  const delegations = allows
    .filter((allow) => allow.delegated && allow.match === true)
    .map((allow) => allow.ref);
  const why =
    delegations.length > 0 && sameAccount
      ? ` ${describe(delegations)} names the account, which delegates to the account's identity policies, and none of them allows it.`
      : principal.type === "AWS" && !sameAccount && allows.some((allow) => allow.match === true)
        ? " Across accounts both an identity policy and the resource policy must allow it."
        : "";
  return {
    decision: "ImplicitDeny",
    decidedBy: [],
    explanation: `Implicitly denied: no statement allows ${request.action} on ${request.resource} for ${who}.${why}`,
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

function statementMatch(
  statement: Statement,
  request: AuthorizationRequest,
  lookup: ContextLookup,
  substitute: boolean,
): { match: Match; delegated: boolean } {
  const { action, resource } = statement;
  const actionMatches = action.value.some((pattern) =>
    matchesWildcard(pattern, request.action, { ignoreCase: true }),
  );
  if (actionMatches === action.negated) {
    return { match: false, delegated: false };
  }
  const principal = principalElement(statement, request.principal);
  if (principal.match === false) {
    return principal;
  }
  const resourceMatches = someMatch(resource.value, (value) => {
    const pattern = substitute ? substituteVariables(value, lookup, "pattern") : value;
    return pattern === undefined
      ? undetermined(
          `Resource ${value} uses a policy variable that has no value in this request; AWS says this "might" make the statement invalid`,
        )
      : matchesWildcard(pattern, request.resource);
  });
  const match = everyMatch(
    [
      () => principal.match,
      () => (resource.negated ? notMatch(resourceMatches) : resourceMatches),
      ...statement.conditions.map((condition) => () => conditionHolds(condition, lookup, substitute)),
    ],
    (part) => part(),
  );
  return { match, delegated: principal.delegated };
}

const ACCOUNT_ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;
const ACCOUNT_ID = /^\d{12}$/;

/** How a Principal element names a caller: directly, only through its account, or not at all. */
type Naming = "direct" | "account" | "none" | { undetermined: string };

/**
 * The Principal / NotPrincipal element (IAM "AWS JSON policy elements: Principal", "NotPrincipal"):
 *
 * - `"*"` and `{"AWS": "*"}` are everyone, anonymous callers included ("For anonymous users, the
 *   following elements are equivalent");
 * - an account id or root ARN names the account and delegates to it;
 * - a role ARN names the role's sessions, a session ARN that one session, a user ARN that user;
 * - a Deny with NotPrincipal spares a caller only if every link of its chain is listed: AWS checks
 *   the account, then the role, then the session, and "When you explicitly deny access to an AWS
 *   account, you deny access to all users contained in that account";
 * - NotPrincipal with Allow "is not supported": undetermined unless it excludes the caller.
 */
function principalElement(statement: Statement, caller: Principal): { match: Match; delegated: boolean } {
  const element = statement.principal;
  if (element === undefined) {
    // Identity policies apply to the principal they are attached to.
    return { match: true, delegated: false };
  }
  if (!element.negated) {
    const naming = nameCaller(element.value, caller);
    if (naming === "none") {
      return { match: false, delegated: false };
    }
    return typeof naming === "object"
      ? { match: naming, delegated: false }
      : { match: true, delegated: naming === "account" };
  }
  const exempt = exempted(element.value, caller);
  if (statement.effect === "Deny") {
    return { match: notMatch(exempt), delegated: false };
  }
  return {
    match:
      exempt === true
        ? false
        : undetermined(
            "NotPrincipal with Allow: AWS documents it as not supported, so what it grants is not defined",
          ),
    delegated: false,
  };
}

function nameCaller(principals: Principals, caller: Principal): Naming {
  if (principals === "*" || (principals.AWS ?? []).includes("*")) {
    return "direct";
  }
  if (caller.type === "Anonymous") {
    return "none";
  }
  const values = principals.AWS ?? [];
  if (values.some((value) => value === caller.sessionArn || (value === caller.arn && !isAccount(value)))) {
    return "direct";
  }
  const account = accountNamed(principals, caller);
  return account === true ? "account" : account === false ? "none" : account;
}

/** Whether a NotPrincipal list names every link of the caller's chain. */
function exempted(principals: Principals, caller: Principal): Match {
  if (principals === "*" || (principals.AWS ?? []).includes("*")) {
    return true;
  }
  if (caller.type === "Anonymous") {
    return false;
  }
  const values = principals.AWS ?? [];
  const links: Array<() => Match> = [() => accountNamed(principals, caller)];
  if (!isAccount(caller.arn)) {
    links.push(() => values.includes(caller.arn));
  }
  const session = caller.sessionArn;
  if (session !== undefined) {
    links.push(() => values.includes(session));
  }
  return everyMatch(links, (link) => link());
}

function accountNamed(principals: Principals, caller: Principal & { type: "AWS" }): Match {
  if (principals === "*") {
    return true;
  }
  const byAws = (principals.AWS ?? []).some(
    (value) =>
      (ACCOUNT_ID.test(value) && value === caller.accountId) ||
      ACCOUNT_ROOT.exec(value)?.[1] === caller.accountId,
  );
  if (byAws) {
    return true;
  }
  const canonical = principals.CanonicalUser ?? [];
  if (canonical.length === 0) {
    return false;
  }
  if (caller.canonicalUserId === undefined) {
    return undetermined("a CanonicalUser principal, and the caller's canonical user id is not known");
  }
  return canonical.includes(caller.canonicalUserId);
}

function isAccount(arn: string): boolean {
  return ACCOUNT_ROOT.test(arn);
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
