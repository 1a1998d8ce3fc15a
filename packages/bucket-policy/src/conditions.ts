import { ipInBlock, parseIpBlock } from "./ip-address.js";
import { everyMatch, type Match, someMatch, undetermined } from "./match.js";
import { type ContextLookup, type SubstitutionMode, substituteVariables } from "./variables.js";
import { matchesArnPattern, matchesWildcard } from "./wildcard.js";

export const CONDITION_OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
] as const;
export type ConditionOperatorName = (typeof CONDITION_OPERATORS)[number];
export type SetQualifier = "ForAnyValue" | "ForAllValues";

/** A parsed operator such as `ForAnyValue:StringLikeIfExists`. */
export type ConditionOperator = {
  readonly name: string;
  readonly base: ConditionOperatorName;
  readonly set?: SetQualifier;
  readonly ifExists: boolean;
};

/** One operator/key pair of a Condition block; a statement's conditions are all ANDed. */
export type Condition = {
  readonly operator: ConditionOperator;
  readonly key: string;
  readonly values: readonly string[];
};

/** `unparsable`: the request value is not of the operator's type (a number, a date, an address). */
type Compare = (requestValue: string, policyValue: string) => boolean | "unparsable";
type OperatorSpec = {
  readonly compare: Compare;
  /** Negated operators hold iff the request value matches none of the policy values. */
  readonly negated: boolean;
  /** AWS substitutes policy variables only in string and ARN comparisons. */
  readonly variables?: SubstitutionMode;
  /** Checked when the policy is parsed, so a typo is an error rather than a silent non-match. */
  readonly valueCheck?: { readonly test: (value: string) => boolean; readonly expected: string };
};

const equals: Compare = (requestValue, policyValue) => requestValue === policyValue;
const equalsIgnoreCase: Compare = (requestValue, policyValue) =>
  requestValue.toLowerCase() === policyValue.toLowerCase();
const like: Compare = (requestValue, policyValue) => matchesWildcard(policyValue, requestValue);
const arnLike: Compare = (requestValue, policyValue) => matchesArnPattern(policyValue, requestValue);

const NUMBER = /^-?\d+(\.\d+)?$/;
const parseNumber = (value: string): number => (NUMBER.test(value.trim()) ? Number(value) : Number.NaN);
const numericCheck = { test: (value: string) => NUMBER.test(value.trim()), expected: "a number" };
const numeric = (test: (request: number, policy: number) => boolean): Compare => {
  return (requestValue, policyValue) => {
    const request = parseNumber(requestValue);
    return Number.isNaN(request) ? "unparsable" : test(request, parseNumber(policyValue));
  };
};

const EPOCH_SECONDS = /^-?\d+(\.\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;
function parseDate(value: string): number {
  const text = value.trim();
  if (EPOCH_SECONDS.test(text)) {
    return Number(text) * 1000;
  }
  if (!ISO_DATE.test(text)) {
    return Number.NaN;
  }
  // A date-time without an offset is UTC for AWS, but Date.parse would read it as local time.
  return Date.parse(/T[\d:.]+$/.test(text) ? `${text}Z` : text);
}
const dateCheck = {
  test: (value: string) => !Number.isNaN(parseDate(value)),
  expected: "an ISO 8601 date or epoch seconds",
};
const date = (test: (request: number, policy: number) => boolean): Compare => {
  return (requestValue, policyValue) => {
    const request = parseDate(requestValue);
    return Number.isNaN(request) ? "unparsable" : test(request, parseDate(policyValue));
  };
};

const ipCheck = {
  test: (value: string) => parseIpBlock(value) !== undefined,
  expected: "an IPv4 or IPv6 address or CIDR block",
};
const inCidr: Compare = (requestValue, policyValue) => {
  const address = parseIpBlock(requestValue);
  const block = parseIpBlock(policyValue);
  if (address === undefined || address.prefix !== (address.version === 4 ? 32 : 128)) {
    return "unparsable";
  }
  return block !== undefined && ipInBlock(address, block);
};

const VARIABLE = /\$\{[^}]*\}/;
// A policy variable is let through here and decided at evaluation (see conditionHolds).
const boolCheck = {
  test: (value: string) => /^(true|false)$/i.test(value) || VARIABLE.test(value),
  expected: '"true" or "false"',
};
const nullCheck = { test: (value: string) => /^(true|false)$/i.test(value), expected: '"true" or "false"' };

const OPERATORS: Record<Exclude<ConditionOperatorName, "Null">, OperatorSpec> = {
  StringEquals: { compare: equals, negated: false, variables: "literal" },
  StringNotEquals: { compare: equals, negated: true, variables: "literal" },
  StringEqualsIgnoreCase: { compare: equalsIgnoreCase, negated: false, variables: "literal" },
  StringNotEqualsIgnoreCase: { compare: equalsIgnoreCase, negated: true, variables: "literal" },
  StringLike: { compare: like, negated: false, variables: "pattern" },
  StringNotLike: { compare: like, negated: true, variables: "pattern" },
  NumericEquals: { compare: numeric((a, b) => a === b), negated: false, valueCheck: numericCheck },
  NumericNotEquals: { compare: numeric((a, b) => a === b), negated: true, valueCheck: numericCheck },
  NumericLessThan: { compare: numeric((a, b) => a < b), negated: false, valueCheck: numericCheck },
  NumericLessThanEquals: { compare: numeric((a, b) => a <= b), negated: false, valueCheck: numericCheck },
  NumericGreaterThan: { compare: numeric((a, b) => a > b), negated: false, valueCheck: numericCheck },
  NumericGreaterThanEquals: { compare: numeric((a, b) => a >= b), negated: false, valueCheck: numericCheck },
  DateEquals: { compare: date((a, b) => a === b), negated: false, valueCheck: dateCheck },
  DateNotEquals: { compare: date((a, b) => a === b), negated: true, valueCheck: dateCheck },
  DateLessThan: { compare: date((a, b) => a < b), negated: false, valueCheck: dateCheck },
  DateLessThanEquals: { compare: date((a, b) => a <= b), negated: false, valueCheck: dateCheck },
  DateGreaterThan: { compare: date((a, b) => a > b), negated: false, valueCheck: dateCheck },
  DateGreaterThanEquals: { compare: date((a, b) => a >= b), negated: false, valueCheck: dateCheck },
  Bool: { compare: equalsIgnoreCase, negated: false, valueCheck: boolCheck },
  BinaryEquals: { compare: equals, negated: false },
  IpAddress: { compare: inCidr, negated: false, valueCheck: ipCheck },
  NotIpAddress: { compare: inCidr, negated: true, valueCheck: ipCheck },
  // AWS documents ArnEquals and ArnLike as the same comparison, wildcards included.
  ArnEquals: { compare: arnLike, negated: false, variables: "pattern" },
  ArnLike: { compare: arnLike, negated: false, variables: "pattern" },
  ArnNotEquals: { compare: arnLike, negated: true, variables: "pattern" },
  ArnNotLike: { compare: arnLike, negated: true, variables: "pattern" },
};

const OPERATOR_NAME = /^(?:(ForAnyValue|ForAllValues):)?([A-Za-z]+?)(IfExists)?$/;

/** Operator names are case-sensitive, as in AWS; `undefined` for anything unknown. */
export function parseConditionOperator(name: string): ConditionOperator | undefined {
  const parts = OPERATOR_NAME.exec(name);
  const base = CONDITION_OPERATORS.find((operator) => operator === parts?.[2]);
  if (parts === null || base === undefined) {
    return undefined;
  }
  const [, set, , ifExists] = parts;
  // Null asks whether the key exists, so neither IfExists nor a set qualifier means anything with it.
  if (base === "Null" && (set !== undefined || ifExists !== undefined)) {
    return undefined;
  }
  return {
    name,
    base,
    ...(set === "ForAnyValue" || set === "ForAllValues" ? { set } : {}),
    ifExists: ifExists !== undefined,
  };
}

/** Returns what the value should have been, or `undefined` if it is acceptable for the operator. */
export function checkConditionValue(operator: ConditionOperator, value: string): string | undefined {
  const check = operator.base === "Null" ? nullCheck : OPERATORS[operator.base].valueCheck;
  return check === undefined || check.test(value) ? undefined : `must be ${check.expected}`;
}

/**
 * Evaluates one operator/key pair (IAM "Condition operators" and "Set operators for multivalued
 * context keys"). Without a set qualifier a multi-valued request key matches if any of its values
 * matches (and a negated operator holds iff none does); with `ForAnyValue:`/`ForAllValues:` the
 * (possibly negated) test is applied to each request value and combined with some/every.
 *
 * Undetermined where AWS's documentation does not decide: a policy variable without a value, an
 * IfExists operator under ForAnyValue on a missing key, a request value that is not of the
 * operator's type under a negated operator, and Bool with a policy variable.
 */
export function conditionHolds(condition: Condition, lookup: ContextLookup, substitute: boolean): Match {
  const { operator, values, key } = condition;
  const requestValues = lookup(key);
  if (operator.base === "Null") {
    const wanted = requestValues === undefined ? "true" : "false";
    return values.some((value) => value.toLowerCase() === wanted);
  }
  const spec = OPERATORS[operator.base];
  if (requestValues === undefined) {
    if (operator.ifExists && operator.set === "ForAnyValue") {
      return undetermined(
        `${operator.name} on "${key}", which the request does not have: IfExists makes a missing key true, ForAnyValue makes it false, and AWS does not say which wins`,
      );
    }
    if (operator.ifExists || operator.set === "ForAllValues") {
      return true;
    }
    return operator.set === undefined && spec.negated;
  }
  if (operator.base === "Bool" && substitute && values.some((value) => VARIABLE.test(value))) {
    return undetermined(
      `Bool on "${key}" with a policy variable: AWS's pages disagree on whether Bool substitutes variables`,
    );
  }
  const policyValues = resolveValues(values, spec.variables, substitute ? lookup : undefined);
  const matchesSome = (requestValue: string): boolean | "unparsable" | "unresolved" => {
    let unresolved = false;
    for (const value of policyValues) {
      if (value === undefined) {
        unresolved = true;
        continue;
      }
      const compared = spec.compare(requestValue, value);
      if (compared !== false) {
        return compared;
      }
    }
    return unresolved ? "unresolved" : false;
  };
  const holdsFor = (requestValue: string): Match => {
    const matched = matchesSome(requestValue);
    if (matched === "unresolved") {
      return undetermined(
        `${operator.name} on "${key}" uses a policy variable that has no value in this request; AWS says this "might" make the statement invalid`,
      );
    }
    if (matched === "unparsable") {
      // A value of the wrong type cannot match, so a positive operator fails; whether the negated
      // one then holds is not documented.
      return spec.negated
        ? undetermined(
            `${operator.name} on "${key}": the request value "${requestValue}" is not ${spec.valueCheck?.expected ?? "comparable"}, and AWS does not document how a negated operator treats it`,
          )
        : false;
    }
    return matched !== spec.negated;
  };
  if (operator.set === "ForAnyValue") {
    return someMatch(requestValues, holdsFor);
  }
  if (operator.set === "ForAllValues" || spec.negated) {
    return everyMatch(requestValues, holdsFor);
  }
  return someMatch(requestValues, holdsFor);
}

/** Policy values with their variables resolved; `undefined` where a variable has no value. */
function resolveValues(
  values: readonly string[],
  mode: SubstitutionMode | undefined,
  lookup: ContextLookup | undefined,
): ReadonlyArray<string | undefined> {
  if (mode === undefined || lookup === undefined) {
    return values;
  }
  return values.map((value) => substituteVariables(value, lookup, mode));
}
