import { type Condition, checkConditionValue, parseConditionOperator } from "./conditions.js";

export type PolicyKind = "identity" | "resource";
export type Effect = "Allow" | "Deny";
export type PrincipalType = "AWS" | "Service" | "Federated" | "CanonicalUser";
/** `"*"` is everyone, anonymous callers included; otherwise principals grouped by type. */
export type Principals = "*" | Readonly<Partial<Record<PrincipalType, readonly string[]>>>;
/** An element and its `Not…` twin: `negated` is true for NotPrincipal/NotAction/NotResource. */
export type Negatable<T> = { readonly negated: boolean; readonly value: T };

export type Statement = {
  readonly sid?: string;
  readonly effect: Effect;
  /** Absent in identity policies, which apply to the principal they are attached to. */
  readonly principal?: Negatable<Principals>;
  readonly action: Negatable<readonly string[]>;
  readonly resource: Negatable<readonly string[]>;
  readonly conditions: readonly Condition[];
};

export type Policy = {
  readonly version?: string;
  readonly id?: string;
  readonly statements: readonly Statement[];
};

export type PolicyError = { code: "INVALID_POLICY"; message: string; path: string };
export type ParsePolicyResult = { ok: true; policy: Policy } | { ok: false; error: PolicyError };

const POLICY_ELEMENTS = ["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS = [
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
const PRINCIPAL_TYPES: readonly PrincipalType[] = ["AWS", "Service", "Federated", "CanonicalUser"];
const VERSIONS = ["2012-10-17", "2008-10-17"];

// Thrown only inside this module and turned into a value by parsePolicy: it keeps every reader below a
// straight line instead of threading a result through each nested element.
class InvalidPolicy extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path === "" ? "Policy" : path} ${problem}`);
    this.path = path;
  }
}

function fail(path: string, problem: string): never {
  throw new InvalidPolicy(path, problem);
}

/**
 * Validates and normalises a policy document (an object or its JSON text). `kind` decides whether a
 * Principal is required (resource policies) or forbidden (identity policies); without it, either is
 * accepted. Single strings become one-element arrays; numbers and booleans in conditions become strings.
 */
export function parsePolicy(json: unknown, kind?: PolicyKind): ParsePolicyResult {
  try {
    return { ok: true, policy: readPolicy(json, kind) };
  } catch (error) {
    if (error instanceof InvalidPolicy) {
      return { ok: false, error: { code: "INVALID_POLICY", message: error.message, path: error.path } };
    }
    throw error;
  }
}

function readPolicy(json: unknown, kind: PolicyKind | undefined): Policy {
  const root = readObject(typeof json === "string" ? readJson(json) : json, "", POLICY_ELEMENTS);
  const version = readOptionalString(root.Version, "Version");
  if (version !== undefined && !VERSIONS.includes(version)) {
    fail("Version", `must be one of ${VERSIONS.join(", ")}`);
  }
  const id = readOptionalString(root.Id, "Id");
  const statement = root.Statement;
  if (statement === undefined) {
    fail("Statement", "is required");
  }
  const statements = Array.isArray(statement)
    ? statement.map((entry: unknown, index) => readStatement(entry, `Statement[${index}]`, kind))
    : [readStatement(statement, "Statement", kind)];
  return { ...(version === undefined ? {} : { version }), ...(id === undefined ? {} : { id }), statements };
}

function readJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return fail("", `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function readStatement(value: unknown, path: string, kind: PolicyKind | undefined): Statement {
  const element = readObject(value, path, STATEMENT_ELEMENTS);
  const sid = readOptionalString(element.Sid, child(path, "Sid"));
  const effect = element.Effect;
  if (effect !== "Allow" && effect !== "Deny") {
    return fail(child(path, "Effect"), "must be Allow or Deny");
  }
  const principal = readNegatable(element, path, "Principal", readPrincipals);
  if (kind === "resource" && principal === undefined) {
    fail(path, "must have a Principal or NotPrincipal in a resource policy");
  }
  if (kind === "identity" && principal !== undefined) {
    fail(
      child(path, principal.negated ? "NotPrincipal" : "Principal"),
      "is not allowed in an identity policy",
    );
  }
  const action = readNegatable(element, path, "Action", (raw, at) => readStrings(raw, at, checkAction));
  const resource = readNegatable(element, path, "Resource", (raw, at) => readStrings(raw, at, checkResource));
  if (action === undefined) {
    return fail(path, "must have an Action or NotAction");
  }
  if (resource === undefined) {
    return fail(path, "must have a Resource or NotResource");
  }
  return {
    ...(sid === undefined ? {} : { sid }),
    effect,
    ...(principal === undefined ? {} : { principal }),
    action,
    resource,
    conditions:
      element.Condition === undefined ? [] : readConditions(element.Condition, child(path, "Condition")),
  };
}

function readNegatable<T>(
  element: Record<string, unknown>,
  path: string,
  name: "Principal" | "Action" | "Resource",
  read: (raw: unknown, path: string) => T,
): Negatable<T> | undefined {
  const positive = element[name];
  const negative = element[`Not${name}`];
  if (positive !== undefined && negative !== undefined) {
    fail(path, `must not have both ${name} and Not${name}`);
  }
  if (positive !== undefined) {
    return { negated: false, value: read(positive, child(path, name)) };
  }
  if (negative !== undefined) {
    return { negated: true, value: read(negative, child(path, `Not${name}`)) };
  }
  return undefined;
}

function readPrincipals(value: unknown, path: string): Principals {
  if (value === "*") {
    return "*";
  }
  const types = readObject(value, path, PRINCIPAL_TYPES, 'must be "*" or an object such as {"AWS": [...]}');
  const principals: Partial<Record<PrincipalType, readonly string[]>> = {};
  for (const type of PRINCIPAL_TYPES) {
    if (types[type] !== undefined) {
      principals[type] = readStrings(
        types[type],
        child(path, type),
        type === "AWS" ? checkAwsPrincipal : undefined,
      );
    }
  }
  if (Object.keys(principals).length === 0) {
    fail(path, "must name at least one principal");
  }
  return principals;
}

// IAM "Principal": "You cannot use a wildcard to match part of a principal name or ARN."
function checkAwsPrincipal(value: string): string | undefined {
  return value === "*" || !/[*?]/.test(value)
    ? undefined
    : 'must not use a wildcard, except "*" on its own for everyone';
}

function checkAction(action: string): string | undefined {
  return action === "*" || /^[^:*?]+:.+$/.test(action) ? undefined : 'must be "*" or "service:action"';
}

function checkResource(resource: string): string | undefined {
  return resource === "*" || resource.startsWith("arn:") ? undefined : 'must be "*" or an ARN';
}

function readConditions(value: unknown, path: string): Condition[] {
  const conditions: Condition[] = [];
  for (const [name, keys] of Object.entries(readObject(value, path))) {
    const operatorPath = child(path, name);
    const operator = parseConditionOperator(name);
    if (operator === undefined) {
      fail(operatorPath, "is not a known condition operator");
    }
    const entries = Object.entries(readObject(keys, operatorPath));
    if (entries.length === 0) {
      fail(operatorPath, "must name at least one condition key");
    }
    for (const [key, raw] of entries) {
      const keyPath = child(path, name, key);
      const values = readConditionValues(raw, keyPath);
      values.forEach((conditionValue, index) => {
        const problem = checkConditionValue(operator, conditionValue);
        if (problem !== undefined) {
          fail(itemPath(keyPath, raw, index), problem);
        }
      });
      conditions.push({ operator, key, values });
    }
  }
  return conditions;
}

// An empty list is allowed: k9 emits `"aws:PrincipalArn": []` for a capability nobody holds, and it
// simply matches nothing (so a negated operator over it always holds).
function readConditionValues(value: unknown, path: string): string[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map((item, index) => {
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      return String(item);
    }
    return fail(itemPath(path, value, index), "must be a string, number or boolean");
  });
}

/** A non-empty list of non-empty strings, accepting a lone string as a list of one. */
function readStrings(value: unknown, path: string, check?: (item: string) => string | undefined): string[] {
  if (Array.isArray(value) && value.length === 0) {
    fail(path, "must not be empty");
  }
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map((item, index) => {
    const at = itemPath(path, value, index);
    if (typeof item !== "string" || item === "") {
      return fail(at, "must be a non-empty string");
    }
    const problem = check?.(item);
    if (problem !== undefined) {
      fail(at, problem);
    }
    return item;
  });
}

function readOptionalString(value: unknown, path: string): string | undefined {
  if (value !== undefined && typeof value !== "string") {
    fail(path, "must be a string");
  }
  return value;
}

function readObject(
  value: unknown,
  path: string,
  allowed?: readonly string[],
  expected = "must be an object",
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, expected);
  }
  const record = value as Record<string, unknown>;
  const unknown =
    allowed === undefined ? undefined : Object.keys(record).find((key) => !allowed.includes(key));
  if (unknown !== undefined) {
    fail(child(path, unknown), `is not a known element (expected ${allowed?.join(", ")})`);
  }
  return record;
}

/** `Statement[0].Condition.StringEquals["aws:PrincipalArn"]`: dotted where possible, quoted otherwise. */
function child(path: string, ...keys: string[]): string {
  return keys.reduce((parent, key) => {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      return parent === "" ? key : `${parent}.${key}`;
    }
    return `${parent}[${JSON.stringify(key)}]`;
  }, path);
}

function itemPath(path: string, value: unknown, index: number): string {
  return Array.isArray(value) ? `${path}[${index}]` : path;
}
