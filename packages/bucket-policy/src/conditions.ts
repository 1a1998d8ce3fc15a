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

type Compare = (requestValue: string, policyValue: string) => boolean;
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
  return (requestValue, policyValue) => test(parseNumber(requestValue), parseNumber(policyValue));
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
  return (requestValue, policyValue) => test(parseDate(requestValue), parseDate(policyValue));
};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
/** Returns [address, prefix length] as unsigned 32-bit integers, or undefined if not IPv4. */
function parseIpv4(value: string): [number, number] | undefined {
  const parts = IPV4.exec(value.trim());
  if (parts === null) {
    return undefined;
  }
  const octets = parts.slice(1, 5).map(Number);
  const prefix = parts[5] === undefined ? 32 : Number(parts[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) {
    return undefined;
  }
  return [octets.reduce((address, octet) => address * 256 + octet, 0), prefix];
}
// IPv6 values are accepted so that real policies parse, but only IPv4 is evaluated: an IPv6 value
// never matches (IpAddress false, NotIpAddress true).
const ipCheck = {
  test: (value: string) =>
    parseIpv4(value) !== undefined || /^[0-9a-fA-F.]*:[0-9a-fA-F:.]*(\/\d{1,3})?$/.test(value),
  expected: "an IP address or CIDR block",
};
const inCidr: Compare = (requestValue, policyValue) => {
  const address = parseIpv4(requestValue);
  const network = parseIpv4(policyValue);
  if (address === undefined || network === undefined) {
    return false;
  }
  const hostBits = 2 ** (32 - network[1]);
  return Math.floor(address[0] / hostBits) === Math.floor(network[0] / hostBits);
};

const boolCheck = { test: (value: string) => /^(true|false)$/i.test(value), expected: '"true" or "false"' };

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
  if (operator.base === "Null") {
    return boolCheck.test(value) ? undefined : `must be ${boolCheck.expected}`;
  }
  const check = OPERATORS[operator.base].valueCheck;
  return check === undefined || check.test(value) ? undefined : `must be ${check.expected}`;
}

/**
 * Evaluates one operator/key pair. Without a set qualifier a multi-valued request key matches if any of
 * its values matches (and a negated operator holds iff none does); with `ForAnyValue:`/`ForAllValues:`
 * the (possibly negated) test is applied to each request value and combined with some/every.
 */
export function conditionHolds(condition: Condition, lookup: ContextLookup, substitute: boolean): boolean {
  const { operator, values } = condition;
  const requestValues = lookup(condition.key);
  if (operator.base === "Null") {
    const wanted = requestValues === undefined ? "true" : "false";
    return values.some((value) => value.toLowerCase() === wanted);
  }
  const spec = OPERATORS[operator.base];
  if (requestValues === undefined) {
    if (operator.ifExists || operator.set === "ForAllValues") {
      return true;
    }
    return operator.set === undefined && spec.negated;
  }
  const policyValues = resolveValues(values, spec.variables, substitute ? lookup : undefined);
  const matchesSome = (requestValue: string) =>
    policyValues.some((value) => spec.compare(requestValue, value));
  const holdsFor = (requestValue: string) => matchesSome(requestValue) !== spec.negated;
  if (operator.set === "ForAllValues") {
    return requestValues.every(holdsFor);
  }
  if (operator.set === "ForAnyValue") {
    return requestValues.some(holdsFor);
  }
  return requestValues.some(matchesSome) !== spec.negated;
}

function resolveValues(
  values: readonly string[],
  mode: SubstitutionMode | undefined,
  lookup: ContextLookup | undefined,
): readonly string[] {
  if (mode === undefined || lookup === undefined) {
    return values;
  }
  return values.flatMap((value) => substituteVariables(value, lookup, mode) ?? []);
}
