import { compareText } from "./spec.js";

/** A policy statement as JSON: what S3 stores and returns. */
export type JsonStatement = Readonly<Record<string, unknown>>;
export type JsonPolicy = { Version?: string; Id?: string; Statement: JsonStatement[] };

/** S3 refuses bucket policies above 20 KB (PutBucketPolicy: "Policies must be less than 20 KB"). */
export const MAX_POLICY_BYTES = 20 * 1024;

const POLICY_KEYS = ["Version", "Id", "Statement"];
const STATEMENT_KEYS = [
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
];
const LIST_ELEMENTS = ["Action", "NotAction", "Resource", "NotResource"];

/**
 * The canonical text of a policy: compact, policy and statement elements in the order people
 * expect to read them (Sid, Effect, Principal, Action, Resource, Condition), every other object's
 * keys sorted, arrays as given. The same document always yields the same bytes.
 */
export function serializePolicy(policy: JsonPolicy): string {
  return writeObject(policy as Record<string, unknown>, POLICY_KEYS, (key, value) =>
    key === "Statement" && Array.isArray(value)
      ? `[${value.map((statement) => serializeStatement(statement as JsonStatement)).join(",")}]`
      : writeValue(value),
  );
}

function serializeStatement(statement: JsonStatement): string {
  return writeObject(statement, STATEMENT_KEYS, (_key, value) => writeValue(value));
}

export function policyBytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * A statement with every order-insensitive part put in order: single values become lists, lists
 * are sorted and deduplicated, condition values become strings. Two statements that AWS would
 * evaluate identically because they differ only in such details normalize to the same text.
 */
export function normalizeStatement(statement: JsonStatement): JsonStatement {
  const normalized: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(statement)) {
    if (LIST_ELEMENTS.includes(key)) {
      normalized[key] = sortedStrings(value);
    } else if ((key === "Principal" || key === "NotPrincipal") && value !== "*" && isRecord(value)) {
      normalized[key] = Object.fromEntries(
        Object.entries(value).map(([type, principals]) => [type, sortedStrings(principals)]),
      );
    } else if (key === "Condition" && isRecord(value)) {
      normalized[key] = Object.fromEntries(
        Object.entries(value).map(([operator, keys]) => [
          operator,
          isRecord(keys)
            ? Object.fromEntries(Object.entries(keys).map(([name, values]) => [name, sortedStrings(values)]))
            : keys,
        ]),
      );
    } else {
      normalized[key] = value;
    }
  }
  return normalized;
}

/** Canonical text of a normalized statement: equal texts mean equal statements. */
export function statementFingerprint(statement: JsonStatement): string {
  return serializeStatement(normalizeStatement(statement));
}

/**
 * The policy's meaning as text, independent of statement order and formatting: what drift
 * detection hashes, so S3 reformatting a policy is not mistaken for someone editing it.
 */
export function policyFingerprint(policy: JsonPolicy): string {
  const statements = policy.Statement.map(statementFingerprint).sort(compareText);
  return `{"Version":${JSON.stringify(policy.Version ?? null)},"Statement":[${statements.join(",")}]}`;
}

function sortedStrings(value: unknown): unknown {
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item) => ["string", "number", "boolean"].includes(typeof item))) {
    return value;
  }
  return [...new Set(items.map(String))].sort(compareText);
}

function writeObject(
  object: Readonly<Record<string, unknown>>,
  order: readonly string[],
  write: (key: string, value: unknown) => string,
): string {
  const keys = Object.keys(object).filter((key) => object[key] !== undefined);
  const known = order.filter((key) => keys.includes(key));
  const rest = keys.filter((key) => !order.includes(key)).sort(compareText);
  const members = [...known, ...rest].map((key) => `${JSON.stringify(key)}:${write(key, object[key])}`);
  return `{${members.join(",")}}`;
}

function writeValue(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(writeValue).join(",")}]`;
  }
  if (isRecord(value)) {
    return writeObject(value, [], (_key, member) => writeValue(member));
  }
  return JSON.stringify(value) ?? "null";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
