/** Ends every exhaustive switch: adding a state or command without handling it is a compile error. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
