import { escapeWildcards } from "./wildcard.js";

/** Case-insensitive condition-key lookup; `undefined` means the key is absent (or has no values). */
export type ContextLookup = (key: string) => readonly string[] | undefined;

/**
 * "literal" yields the plain text (for StringEquals and friends); "pattern" keeps the policy's own
 * wildcards and escapes substituted values so that a `*` in a user name cannot widen the match.
 */
export type SubstitutionMode = "literal" | "pattern";

const VARIABLE = /\$\{([^}]*)\}/g;
const KEY_WITH_DEFAULT = /^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$/;

/**
 * Replaces `${key}` and `${key, 'default'}` with the request's value. Returns `undefined` when a
 * variable has no value and no default: AWS only says that this "might cause the entire statement
 * to be invalid" (IAM "Policy variables"), so callers report the element as undetermined. A
 * multi-valued key has no single value to substitute and counts as having none.
 */
export function substituteVariables(
  text: string,
  lookup: ContextLookup,
  mode: SubstitutionMode,
): string | undefined {
  if (!text.includes("${")) {
    return text;
  }
  let unresolved = false;
  const result = text.replace(VARIABLE, (whole, inner: string) => {
    if (inner === "*" || inner === "?" || inner === "$") {
      return mode === "pattern" ? whole : inner;
    }
    const parts = KEY_WITH_DEFAULT.exec(inner);
    if (parts === null) {
      return whole;
    }
    const [, key = "", fallback] = parts;
    const values = lookup(key);
    const value = values?.length === 1 ? values[0] : fallback;
    if (value === undefined) {
      unresolved = true;
      return "";
    }
    return mode === "pattern" ? escapeWildcards(value) : value;
  });
  return unresolved ? undefined : result;
}
