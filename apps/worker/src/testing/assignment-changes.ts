import type { CallRecord } from "@keyturn/testkit";

// What AWS was asked to change, read back from the emulator's call log: "each create/delete is
// issued once per needed change" is checked against the log itself, not against what the workers
// believe they did.

export type AssignmentChange = {
  /** `account|permission set ARN|principal type|principal id`. */
  key: string;
  principalId: string;
  operation: "CreateAccountAssignment" | "DeleteAccountAssignment";
  at: number;
  requestId: string;
};

const CHANGES = new Set<string>(["CreateAccountAssignment", "DeleteAccountAssignment"]);

/** The creates and deletes AWS accepted (throttled or refused calls changed nothing), in order. */
export function acceptedChanges(log: readonly CallRecord[]): AssignmentChange[] {
  return log
    .filter((call) => CHANGES.has(call.operation) && call.outcome === "ok")
    .map((call) => {
      const { TargetId, PermissionSetArn, PrincipalType, PrincipalId } = call.input;
      return {
        key: [TargetId, PermissionSetArn, PrincipalType, PrincipalId].map(String).join("|"),
        principalId: String(PrincipalId),
        operation: call.operation as AssignmentChange["operation"],
        at: call.at,
        requestId: call.requestId,
      };
    })
    .sort((a, b) => a.at - b.at);
}

/**
 * Replays the accepted changes from an empty Identity Center (or from `present`): a create of an
 * assignment that already existed, or a delete of one that did not, was not needed. AWS accepts
 * both (a create is idempotent, a delete of nothing succeeds), so only the log shows them.
 */
export function unneededChanges(
  changes: readonly AssignmentChange[],
  present: ReadonlySet<string> = new Set(),
): AssignmentChange[] {
  const exists = new Set(present);
  const unneeded: AssignmentChange[] = [];
  for (const change of changes) {
    const creating = change.operation === "CreateAccountAssignment";
    if (exists.has(change.key) === creating) {
      unneeded.push(change);
    } else if (creating) {
      exists.add(change.key);
    } else {
      exists.delete(change.key);
    }
  }
  return unneeded;
}

/** Accepted changes per principal, oldest first. */
export function changesByPrincipal(changes: readonly AssignmentChange[]): Map<string, AssignmentChange[]> {
  const byPrincipal = new Map<string, AssignmentChange[]>();
  for (const change of changes) {
    const list = byPrincipal.get(change.principalId) ?? [];
    list.push(change);
    byPrincipal.set(change.principalId, list);
  }
  return byPrincipal;
}
