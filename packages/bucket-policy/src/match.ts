/**
 * Whether a policy element matches a request: yes, no, or not decided by AWS's documentation. An
 * undetermined match carries the reason, so whoever reports the result can say why it cannot
 * give a confident answer (DESIGN.md invariant 10).
 */
export type Match = boolean | { readonly undetermined: string };

export function isUndetermined(match: Match): match is { readonly undetermined: string } {
  return typeof match === "object";
}

export function undetermined(reason: string): Match {
  return { undetermined: reason };
}

/** True if any item matches; otherwise undetermined if any item is; otherwise false. */
export function someMatch<T>(items: Iterable<T>, test: (item: T) => Match): Match {
  let open: Match = false;
  for (const item of items) {
    const match = test(item);
    if (match === true) {
      return true;
    }
    if (open === false && isUndetermined(match)) {
      open = match;
    }
  }
  return open;
}

/** False if any item fails; otherwise undetermined if any item is; otherwise true. */
export function everyMatch<T>(items: Iterable<T>, test: (item: T) => Match): Match {
  return notMatch(someMatch(items, (item) => notMatch(test(item))));
}

export function notMatch(match: Match): Match {
  return isUndetermined(match) ? match : !match;
}
