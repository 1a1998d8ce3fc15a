/**
 * IAM wildcards: `*` matches any run of characters (including `/` and `:`), `?` exactly one. The
 * policy-variable escapes `${*}`, `${?}` and `${$}` stand for the literal character, which is also how
 * substituted variable values are kept from acting as wildcards (see `escapeWildcards`).
 */
const TOKEN = /\$\{([*?$])\}|([*?])|([^*?$]+|\$)/g;

// Patterns come from a handful of stored policies, so the cache stays small in practice; the cap only
// guards a long-running emulator against policies that are rewritten over and over.
const CACHE_LIMIT = 5_000;
const cache = new Map<string, RegExp>();

export function wildcardToRegExp(pattern: string, options: { ignoreCase?: boolean } = {}): RegExp {
  const flags = options.ignoreCase === true ? "isu" : "su";
  const cacheKey = `${flags}\u0000${pattern}`;
  const cached = cache.get(cacheKey);
  if (cached !== undefined) {
    return cached;
  }
  let source = "";
  for (const [, escaped, wildcard, literal] of pattern.matchAll(TOKEN)) {
    if (wildcard === "*") {
      source += ".*";
    } else if (wildcard === "?") {
      source += ".";
    } else {
      source += escapeRegExp(escaped ?? literal ?? "");
    }
  }
  const compiled = new RegExp(`^${source}$`, flags);
  if (cache.size >= CACHE_LIMIT) {
    cache.clear();
  }
  cache.set(cacheKey, compiled);
  return compiled;
}

export function matchesWildcard(
  pattern: string,
  value: string,
  options: { ignoreCase?: boolean } = {},
): boolean {
  return wildcardToRegExp(pattern, options).test(value);
}

/** Makes `value` match only itself when spliced into a wildcard pattern. */
export function escapeWildcards(value: string): string {
  return value.replace(/[*?$]/g, (character) => `\${${character}}`);
}

/**
 * ArnEquals/ArnLike: the first five `:`-separated segments are compared one by one, and the sixth is the
 * rest of the string (it may itself contain `:`), so a `*` never spills from one segment into the next.
 * A value or pattern with fewer than six segments is not an ARN and matches nothing.
 */
export function matchesArnPattern(pattern: string, arn: string): boolean {
  const patternSegments = splitArn(pattern);
  const arnSegments = splitArn(arn);
  if (patternSegments === undefined || arnSegments === undefined) {
    return false;
  }
  return patternSegments.every((segment, index) => matchesWildcard(segment, arnSegments[index] ?? ""));
}

function splitArn(value: string): string[] | undefined {
  const parts = value.split(":");
  if (parts.length < 6) {
    return undefined;
  }
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
